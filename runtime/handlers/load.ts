/**
 * Loads handler modules and binds them to the protos.
 * @module
 */
import { type Issue, UserInputError } from "../core/errors.ts";
import type { ProtoSet } from "../protos/types.ts";
import { bindMethods, checkHandlerModule, HANDLER_FILE_HINT, type MethodBinding } from "./bind.ts";
import type { ServiceDefinition } from "./define.ts";
import type { HandlerSource } from "./discover.ts";
import { importIssue } from "./import_error.ts";

/** The outcome of loading every handler file. */
export interface LoadedHandlers {
  /** Every method of every served service, in proto order. */
  readonly bindings: readonly MethodBinding[];
  /** Served service names → the handler file serving each. */
  readonly services: ReadonlyMap<string, string>;
}

/**
 * Imports every source, validates its default export and binds methods.
 * Throws UserInputError listing every problem in every file.
 */
export async function loadHandlers(
  sources: readonly HandlerSource[],
  protos: ProtoSet,
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
  if (issues.length > 0) {
    const wrongShape = issues.some((i) => !i.message.startsWith("cannot be imported"));
    throw new UserInputError("handlers", issues, wrongShape ? HANDLER_FILE_HINT : undefined);
  }
  const services = new Map([...definitions].map(([name, { file }]) => [name, file]));
  return { bindings: bindMethods(definitions, protos), services };
}
