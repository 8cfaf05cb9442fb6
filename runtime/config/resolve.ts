/**
 * Turns config text into a {@link ResolvedConfig}: parse, expand `${VAR}`,
 * apply `OTEL_*` then `SVC_*` overrides, validate, fill defaults, check, freeze.
 * @module
 */

import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { type Issue, UserInputError } from "../core/errors.ts";
import { checkConfig, type PartialConfig } from "./checks.ts";
import { type Context, report } from "./context.ts";
import { describeValue } from "./describe.ts";
import { listEntries } from "./entries.ts";
import { applyEnvOverrides } from "./env.ts";
import { applyOtelEnv } from "./otel_env.ts";
import { deepFreeze } from "./freeze.ts";
import { emptyMap, fromSimple, fromYaml, type MapNode, type Origin, type RawNode } from "./raw.ts";
import type { Path } from "./path.ts";
import { parseSimpleYaml } from "./simple_yaml.ts";
import { configSchema } from "./schema.ts";
import type { ResolvedConfig } from "./types.ts";
import { resolveField } from "./validate.ts";

const _entries = listEntries(configSchema);
const _keyPaths = _entries.map((entry) => entry.path).filter((p) => !p.join().includes("<"));

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
export function resolveConfig(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>> = {},
): ResolvedConfig {
  const absolute = resolve(file);
  const context: Context = {
    file: absolute,
    dir: dirname(absolute),
    issues: [],
    keyPaths: _keyPaths,
  };
  const onProblem = (path: Path, origin: Origin, message: string) =>
    report(context, path, undefined, message, origin);
  // The common shapes of YAML take a fast path (simple_yaml.ts); the rest, and
  // every syntax error, go through the yaml package.
  const simple = parseSimpleYaml(text);
  const root = simple
    ? _topLevel(fromSimple(simple, [], { env, onProblem }), context)
    : _parsed(text, absolute, env, context, onProblem);
  applyOtelEnv(root, env, context);
  applyEnvOverrides(root, _entries, env, context);
  const value = resolveField(configSchema, root, [], context) as PartialConfig;
  checkConfig(value, root, context);
  if (context.issues.length > 0) throw new UserInputError("config", _sorted(context.issues));
  return deepFreeze({ file: absolute, ...value } as ResolvedConfig);
}

function _parsed(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
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
  return _topLevel(fromYaml(contents, [], { doc, lineCounter, env, onProblem }), context);
}

function _topLevel(node: RawNode, context: Context): MapNode {
  if (node.type === "map") return node;
  if (node.type === "scalar" && node.value === null) return emptyMap();
  report(context, [], node, `expected a mapping at the top level, got ${describeValue(node)}`);
  return emptyMap();
}

/** File issues in line order, then those without a line (env vars, defaults). */
function _sorted(issues: Issue[]): Issue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) =>
      (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) ||
      (a.issue.column ?? 0) - (b.issue.column ?? 0) || a.index - b.index
    )
    .map(({ issue }) => issue);
}
