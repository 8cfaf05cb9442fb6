/**
 * Everything that happens before a port is bound: config, protos, handlers.
 * Any user mistake surfaces here as a UserInputError, so `svc check` and
 * `svc run` report the same problems and bind nothing.
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import type { ResolvedConfig } from "../config/types.ts";
import { UserInputError } from "../core/errors.ts";
import {
  discoverHandlerFiles,
  fileSource,
  findMiddlewareFile,
  type HandlerSource,
  type LoadedHandlers,
  loadHandlers,
  loadMiddleware,
  MIDDLEWARE_FILE_HINT,
} from "../handlers/mod.ts";
import type { Interceptor } from "../core/interceptor.ts";
import type { DependencyOptions } from "../client/discovery.ts";
import { etcdEndpointIssues } from "../etcd/etcd_client.ts";
import { loadDependencies } from "./dependencies.ts";
import type { Issue } from "../core/errors.ts";
import { loadProtos } from "../protos/mod.ts";
import type { ProtoSet } from "../protos/types.ts";

/** A loaded, validated service, ready to serve. */
export interface LoadedApp {
  readonly config: ResolvedConfig;
  readonly protos: ProtoSet;
  readonly handlers: LoadedHandlers;
  /** User middleware, in the order it runs. */
  readonly middleware: readonly Interceptor[];
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
}

/** Loads config, protos and handlers, in that order. */
export async function loadApp(
  configPath: string,
  options: LoadAppOptions = {},
): Promise<LoadedApp> {
  const config = await loadConfig(configPath, { env: options.env });
  const protos = await loadProtos({
    ...config.protos,
    maxDecodedMessageBytes: config.server.maxDecodedMessageBytes,
  });
  const sources = options.handlerSources ?? await discoverSources(config.handlers);
  const handlers = await loadHandlers(sources, protos);
  const middleware = await loadAllMiddleware(
    options.middlewareSources ?? await middlewareSourcesOf(config),
  );
  const dependencies = await loadDependencies(config);
  const warnings = collectWarnings(config, protos, handlers);
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
  return { config, protos, handlers, middleware, dependencies, warnings };
}

/** `<handlers>/_middleware.ts`, then each file under `middleware` in the config. */
async function middlewareSourcesOf(config: ResolvedConfig): Promise<HandlerSource[]> {
  const local = await findMiddlewareFile(config.handlers);
  return [...(local ? [local] : []), ...config.middleware.map(fileSource)];
}

async function loadAllMiddleware(sources: readonly HandlerSource[]): Promise<Interceptor[]> {
  const issues: Issue[] = [];
  const interceptors = await loadMiddleware(sources, issues);
  if (issues.length > 0) throw new UserInputError("middleware", issues, MIDDLEWARE_FILE_HINT);
  return interceptors;
}

async function discoverSources(dir: string): Promise<HandlerSource[]> {
  try {
    return await discoverHandlerFiles(dir);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "directory not found" : String(error);
    throw new UserInputError("handlers", [{ file: dir, message: reason }]);
  }
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
  if (handlers.services.size === 0) {
    warnings.push(
      `no handler files in ${config.handlers}; the protos define ${
        [...protos.services.keys()].join(", ") || "no services"
      }`,
    );
  }
  return warnings;
}
