/**
 * Reads a config file from disk and resolves it.
 * @module
 */

import { resolve } from "node:path";
import { UserInputError } from "../core/errors.ts";
import { resolveSimpleConfig } from "./resolve_core.ts";
import type { ResolvedConfig } from "./types.ts";

/** Options for {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Variables for `${VAR}` expansion and `SVC_*` overrides. Default: `Deno.env.toObject()`. */
  env?: Record<string, string>;
}

/**
 * Loads the YAML config at `path` into a deeply frozen
 * {@link ResolvedConfig}, with defaults filled in, `${VAR}` expanded,
 * `SVC_*` env overrides applied, durations in ms and paths absolute.
 *
 * @example
 * ```ts ignore
 * import { loadConfig } from "./load.ts";
 * const config = await loadConfig("svc.yaml");
 * console.log(config.server.port);
 * ```
 * @throws {UserInputError} (kind `config`) listing every problem, including
 * a missing file
 */
export async function loadConfig(
  path: string,
  options: LoadConfigOptions = {},
): Promise<ResolvedConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new UserInputError("config", [{ file, message: _readProblem(error) }]);
  }
  const env = options.env ?? Deno.env.toObject();
  // The yaml package loads only for text the fast path leaves to it (resolve_core.ts).
  return resolveSimpleConfig(text, file, env) ??
    (await import("./resolve.ts")).resolveConfig(text, file, env);
}

function _readProblem(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "file not found";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory, expected a YAML file";
  return `cannot read file: ${(error as Error).message}`;
}
