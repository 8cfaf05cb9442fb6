/**
 * Everything that happens before a port is bound: config, protos, handlers.
 * Any user mistake surfaces here as a UserInputError, so `svc check` and
 * `svc run` report the same problems and bind nothing.
 * @module
 */
import { join, relative } from "node:path";
import { loadConfig } from "../config/mod.ts";
import type { ResolvedConfig } from "../config/types.ts";
import { UserInputError } from "../core/errors.ts";
import {
  CLIENT_MIDDLEWARE_FILE_HINT,
  discoverHandlerFiles,
  fileSource,
  findClientMiddlewareFile,
  findMiddlewareFile,
  type HandlerSource,
  loadClientMiddleware,
  type LoadedHandlers,
  loadHandlers,
  loadMiddleware,
  MIDDLEWARE_FILE_HINT,
  type ModuleVersion,
} from "../handlers/mod.ts";
import type { Interceptor } from "../core/interceptor.ts";
import type { ClientInterceptor } from "../core/clients.ts";
import type { DependencyOptions } from "../client/discovery.ts";
import { etcdEndpointIssues } from "../etcd/etcd_client.ts";
import { loadDependencies } from "./dependencies.ts";
import { BUILTIN_SERVICES } from "./builtins.ts";
import type { Issue } from "../core/errors.ts";
import { loadProtos } from "../protos/mod.ts";
import type { ProtoSet } from "../protos/types.ts";
import { startupMark } from "../util/startup_timings.ts";

/** A loaded, validated service, ready to serve. */
export interface LoadedApp {
  readonly config: ResolvedConfig;
  readonly protos: ProtoSet;
  readonly handlers: LoadedHandlers;
  /** User middleware, in the order it runs. */
  readonly middleware: readonly Interceptor[];
  /** User client middleware for calls through `ctx.clients`, outermost first. */
  readonly clientMiddleware: readonly ClientInterceptor[];
  /** Services handlers call through `ctx.clients`, with their methods. */
  readonly dependencies: ReadonlyMap<string, DependencyOptions>;
  /** Things worth telling the user that do not stop start-up. */
  readonly warnings: readonly string[];
}

/** Options for {@link loadApp}. */
export interface LoadAppOptions {
  /** Environment for `${VAR}` expansion and `SVC_*` overrides. Default: the process's. */
  env?: Record<string, string>;
  /** Handler modules to use instead of walking `config.handlers` (a build manifest). */
  handlerSources?: readonly HandlerSource[];
  /** Middleware modules to use instead of `_middleware.ts` plus `config.middleware`. */
  middlewareSources?: readonly HandlerSource[];
  /**
   * Client middleware modules to use instead of `_client_middleware.ts` plus
   * `config.clientMiddleware` (a build manifest).
   */
  clientMiddlewareSources?: readonly HandlerSource[];
  /** Which version of each handler and middleware file to import (live reload). Default: as is. */
  moduleVersion?: ModuleVersion;
}

/** Loads config, protos and handlers, in that order. */
export async function loadApp(
  configPath: string,
  options: LoadAppOptions = {},
): Promise<LoadedApp> {
  const config = await loadConfig(configPath, { env: options.env });
  startupMark("config");
  const protos = await loadProtos({
    ...config.protos,
    maxDecodedMessageBytes: config.server.maxDecodedMessageBytes,
  });
  startupMark("protos");
  const sources = options.handlerSources ??
    await discoverSources(config.handlers, options.moduleVersion);
  const handlers = await loadHandlers(sources, protos, {
    servedElsewhere: servedElsewhere(config),
  });
  const { middleware, clientMiddleware } = await loadAllMiddleware(
    options.middlewareSources ?? await middlewareSourcesOf(config, options.moduleVersion),
    options.clientMiddlewareSources ??
      await clientMiddlewareSourcesOf(config, options.moduleVersion),
  );
  const dependencies = await loadDependencies(config);
  startupMark("handlers");
  const warnings = collectWarnings(config, protos, handlers);
  if (clientMiddleware.length > 0 && dependencies.size === 0) {
    warnings.push(
      "client middleware is loaded but never runs: it wraps calls to dependencies, " +
        "and the config declares none",
    );
  }
  for (const [name, dependency] of dependencies) {
    if ((dependency.static ?? []).length === 0 && config.registry.type === "none") {
      warnings.push(
        `dependencies.${name} has no addresses, so it is looked up in etcd at ` +
          `${config.registry.endpoints.join(", ")} although this service does not register there`,
      );
    }
  }
  if (dependencies.size > 0 || config.registry.type === "etcd") {
    warnings.push(...etcdEndpointIssues(config.registry));
  }
  return { config, protos, handlers, middleware, clientMiddleware, dependencies, warnings };
}

/** `<handlers>/_middleware.ts`, then each file under `middleware` in the config. */
async function middlewareSourcesOf(
  config: ResolvedConfig,
  version?: ModuleVersion,
): Promise<HandlerSource[]> {
  const local = await findMiddlewareFile(config.handlers, version);
  return [...(local ? [local] : []), ...config.middleware.map((f) => fileSource(f, version))];
}

/** `<handlers>/_client_middleware.ts`, then each file under `clientMiddleware` in the config. */
async function clientMiddlewareSourcesOf(
  config: ResolvedConfig,
  version?: ModuleVersion,
): Promise<HandlerSource[]> {
  const local = await findClientMiddlewareFile(config.handlers, version);
  return [
    ...(local ? [local] : []),
    ...config.clientMiddleware.map((f) => fileSource(f, version)),
  ];
}

/**
 * Both kinds of middleware. Problems in either are reported together, so a
 * user fixing a server and a client middleware file sees both at once.
 */
async function loadAllMiddleware(
  serverSources: readonly HandlerSource[],
  clientSources: readonly HandlerSource[],
): Promise<{ middleware: Interceptor[]; clientMiddleware: ClientInterceptor[] }> {
  const serverIssues: Issue[] = [];
  const middleware = await loadMiddleware(serverSources, serverIssues);
  const clientIssues: Issue[] = [];
  const clientMiddleware = await loadClientMiddleware(clientSources, clientIssues);
  if (serverIssues.length + clientIssues.length > 0) {
    const hints = [
      ...(serverIssues.length > 0 ? [MIDDLEWARE_FILE_HINT] : []),
      ...(clientIssues.length > 0 ? [CLIENT_MIDDLEWARE_FILE_HINT] : []),
    ];
    throw new UserInputError("middleware", [...serverIssues, ...clientIssues], hints.join("\n\n"));
  }
  return { middleware, clientMiddleware };
}

async function discoverSources(dir: string, version?: ModuleVersion): Promise<HandlerSource[]> {
  try {
    return await discoverHandlerFiles(dir, version);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "directory not found" : String(error);
    throw new UserInputError("handlers", [{ file: dir, message: reason }]);
  }
}

/**
 * Proto services no handler file is expected for: the built-ins (the runtime
 * serves them) and the `dependencies`. A dependency is a service this one
 * *calls*; another process serves it. Its proto often sits among this
 * service's own protos (one shared proto directory, or an import), so it is
 * in `protos.services` without being meant to be served here: calling it
 * "missing" would be wrong, and a warning for every called service would
 * teach users to ignore the warning that matters. Should the user serve a
 * dependency too, its handler file still binds it as usual.
 */
function servedElsewhere(config: ResolvedConfig): ReadonlySet<string> {
  return new Set([...BUILTIN_SERVICES, ...Object.keys(config.dependencies)]);
}

function collectWarnings(
  config: ResolvedConfig,
  protos: ProtoSet,
  handlers: LoadedHandlers,
): string[] {
  const warnings: string[] = [];
  if (config.server.transport === "grpc-js") {
    warnings.push(
      "server.transport is grpc-js, the fallback: it lacks protections the native transport has " +
        "(clients that stop reading, connections that send only the preface, stream-id errors; " +
        "see docs/transport.md#what-the-grpc-js-fallback-does-not-protect-against)",
    );
  }
  const unimplemented = handlers.bindings.filter((b) => !b.handler);
  for (const { method } of unimplemented) {
    warnings.push(
      `${method.path} has no handler in ${
        handlers.services.get(method.service)
      }; calls answer UNIMPLEMENTED`,
    );
  }
  for (const { service, fileName } of handlers.missing) {
    warnings.push(
      `${service.name} (${shown(service.file)}) has no handler file, so it is not served and ` +
        `calls to it answer UNIMPLEMENTED; add one, e.g. ${shown(join(config.handlers, fileName))}`,
    );
  }
  // Each missing service is named above with the file to add; this line is
  // for protos that leave nothing to serve here.
  if (handlers.services.size === 0 && handlers.missing.length === 0) {
    warnings.push(
      `no handler files in ${config.handlers}; the protos define ${
        [...protos.services.keys()].join(", ") || "no services"
      }`,
    );
  }
  return warnings;
}

// Paths under the working directory read better relative, as `svc check` prints them.
function shown(path: string): string {
  const short = relative(Deno.cwd(), path) || ".";
  return short.startsWith("..") ? path : short;
}
