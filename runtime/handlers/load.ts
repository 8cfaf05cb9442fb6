/**
 * Loads handler modules and binds them to the protos.
 * @module
 */
import { type Issue, UserInputError } from "../core/errors.ts";
import type { ProtoSet, ServiceDescriptor } from "../protos/types.ts";
import { bindMethods, checkHandlerModule, type MethodBinding } from "./bind.ts";
import type { ServiceDefinition } from "./define.ts";
import type { HandlerSource } from "./discover.ts";
import { handlerFileHint } from "./hint.ts";
import { importIssue } from "./import_error.ts";
import { type MissingService, missingServices } from "./missing.ts";

/** The outcome of loading every handler file. */
export interface LoadedHandlers {
  /** Every method of every served service, in proto order. */
  readonly bindings: readonly MethodBinding[];
  /** Served service names → the handler file serving each. */
  readonly services: ReadonlyMap<string, string>;
  /** Proto services no handler file serves (not served; calls answer UNIMPLEMENTED). */
  readonly missing: readonly MissingService[];
}

/** Options for {@link loadHandlers}. */
export interface LoadHandlersOptions {
  /**
   * Proto services this process is not meant to serve from a handler file
   * (the runtime's built-ins, the services it calls): never reported
   * missing, never sketched in the hint.
   */
  servedElsewhere?: ReadonlySet<string>;
}

/**
 * Imports every source, validates its default export and binds methods.
 * Throws UserInputError listing every problem in every file, with a sketch
 * of a handler file for a service of `protos` when a file has the wrong shape.
 */
export async function loadHandlers(
  sources: readonly HandlerSource[],
  protos: ProtoSet,
  options: LoadHandlersOptions = {},
): Promise<LoadedHandlers> {
  const issues: Issue[] = [];
  const definitions = new Map<string, { definition: ServiceDefinition; file: string }>();
  for (const source of sources) {
    let module: Record<string, unknown>;
    try {
      module = await source.load();
    } catch (error) {
      issues.push(importIssue(source.file, error));
      continue;
    }
    const definition = checkHandlerModule(source.file, module, protos, issues);
    if (!definition) continue;
    const other = definitions.get(definition.service);
    if (other) {
      issues.push({
        file: source.file,
        message: `${definition.service} is already served by ${other.file}; one file per service`,
      });
      continue;
    }
    definitions.set(definition.service, { definition, file: source.file });
  }
  const services = new Map([...definitions].map(([name, { file }]) => [name, file]));
  const missing = missingServices(protos, services, options.servedElsewhere ?? new Set());
  if (issues.length > 0) {
    const wrongShape = issues.some((i) => !i.message.startsWith("cannot be imported"));
    throw new UserInputError(
      "handlers",
      issues,
      wrongShape ? handlerFileHint(sketched(protos, missing, options)) : undefined,
    );
  }
  return { bindings: bindMethods(definitions, protos), services, missing };
}

// The service the user most likely is writing: the first without a working
// handler file (a broken file's service counts), else the first one at all.
function sketched(
  protos: ProtoSet,
  missing: readonly MissingService[],
  options: LoadHandlersOptions,
): ServiceDescriptor | undefined {
  return missing[0]?.service ??
    [...protos.services.values()].find((s) => !options.servedElsewhere?.has(s.name));
}
