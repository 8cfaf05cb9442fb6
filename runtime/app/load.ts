/**
 * Everything that happens before a port is bound: config, protos, handlers.
 * Any user mistake surfaces here as a UserInputError, so `svc check` and
 * `svc run` report the same problems and bind nothing.
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import type { ResolvedConfig } from "../config/types.ts";
import { UserInputError } from "../errors.ts";
import {
  discoverHandlerFiles,
  type HandlerSource,
  type LoadedHandlers,
  loadHandlers,
} from "../handlers/mod.ts";
import { loadProtos } from "../protos/mod.ts";
import type { ProtoSet } from "../protos/types.ts";

/** A loaded, validated service, ready to serve. */
export interface LoadedApp {
  readonly config: ResolvedConfig;
  readonly protos: ProtoSet;
  readonly handlers: LoadedHandlers;
  /** Things worth telling the user that do not stop start-up. */
  readonly warnings: readonly string[];
}

/** Options for {@link loadApp}. */
export interface LoadAppOptions {
  /** Environment for `${VAR}` expansion and `SVC_*` overrides. Default: the process's. */
  env?: Record<string, string>;
  /** Handler modules to use instead of walking `config.handlers` (a build manifest). */
  handlerSources?: readonly HandlerSource[];
}

/** Loads config, protos and handlers, in that order. */
export async function loadApp(
  configPath: string,
  options: LoadAppOptions = {},
): Promise<LoadedApp> {
  const config = await loadConfig(configPath, { env: options.env });
  const protos = await loadProtos(config.protos);
  const sources = options.handlerSources ?? await discoverSources(config.handlers);
  const handlers = await loadHandlers(sources, protos);
  return { config, protos, handlers, warnings: collectWarnings(config, protos, handlers) };
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
