/**
 * Turns config text into a {@link ResolvedConfig}: parse, expand `${VAR}`,
 * apply `OTEL_*` then `SVC_*` overrides, validate, fill defaults, check, freeze.
 * The common shapes of YAML take a fast path (resolve_core.ts, simple_yaml.ts);
 * this file adds the `yaml` package for the rest, and loadConfig() imports it
 * only then.
 * @module
 */

import { LineCounter, parseDocument } from "yaml";
import { UserInputError } from "../core/errors.ts";
import type { Context } from "./context.ts";
import { emptyMap, fromYaml, type MapNode, type Origin } from "./raw.ts";
import type { Path } from "./path.ts";
import {
  type ConfigEnv,
  finishConfig,
  newContext,
  resolveSimpleConfig,
  topLevel,
} from "./resolve_core.ts";
import type { ResolvedConfig } from "./types.ts";

/**
 * Resolves config `text` as if read from `file` (relative paths in it resolve
 * against `file`'s directory, which must exist for the path checks). `env`
 * feeds both `${VAR}` expansion and `SVC_*` overrides; it defaults to empty
 * so tests are deterministic. Synchronous: path checks use `Deno.statSync`.
 *
 * @example
 * ```ts ignore
 * import { resolveConfig } from "./resolve.ts";
 * const config = resolveConfig("server:\n  port: ${PORT:-50051}\n", "/srv/app/svc.yaml", {});
 * config.server.port; // 50051 (if /srv/app/proto and /srv/app/handlers exist)
 * ```
 * @throws {UserInputError} listing every problem found
 */
export function resolveConfig(text: string, file: string, env: ConfigEnv = {}): ResolvedConfig {
  // The common shapes of YAML take a fast path (simple_yaml.ts); the rest, and
  // every syntax error, go through the yaml package.
  const simple = resolveSimpleConfig(text, file, env);
  if (simple) return simple;
  const { context, onProblem } = newContext(file);
  return finishConfig(_parsed(text, context.file, env, context, onProblem), env, context);
}

function _parsed(
  text: string,
  file: string,
  env: ConfigEnv,
  context: Context,
  onProblem: (path: Path, origin: Origin, message: string) => void,
): MapNode {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new UserInputError(
      "config",
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { file, line, column: col, message: error.message };
      }),
    );
  }
  const contents: unknown = doc.contents;
  if (contents === null || contents === undefined) return emptyMap();
  return topLevel(fromYaml(contents, [], { doc, lineCounter, env, onProblem }), context);
}
