/**
 * The part of config resolution that needs no `yaml` package: the fast path
 * for the common shapes of YAML (simple_yaml.ts) and everything after parsing.
 * loadConfig() tries {@link resolveSimpleConfig} first and imports
 * resolve.ts, and with it the yaml package (~5 ms to load at start), only for
 * text the fast path leaves to it, including every syntax error.
 * @module
 */

import { dirname, resolve } from "node:path";
import { type Issue, UserInputError } from "../core/errors.ts";
import { checkConfig, type PartialConfig } from "./checks.ts";
import { type Context, report } from "./context.ts";
import { describeValue } from "./describe.ts";
import { listEntries } from "./entries.ts";
import { applyEnvOverrides } from "./env.ts";
import { applyOtelEnv } from "./otel_env.ts";
import { deepFreeze } from "./freeze.ts";
import { emptyMap, fromSimple, type MapNode, type Origin, type RawNode } from "./raw.ts";
import type { Path } from "./path.ts";
import { parseSimpleYaml } from "./simple_yaml.ts";
import { configSchema } from "./schema.ts";
import type { ResolvedConfig } from "./types.ts";
import { resolveField } from "./validate.ts";

/** Environment variables, as resolveConfig() takes them. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

const _entries = listEntries(configSchema);
const _keyPaths = _entries.map((entry) => entry.path).filter((p) => !p.join().includes("<"));

/** A fresh resolution context for `file`, and the sink parse problems go to. */
export function newContext(file: string): {
  context: Context;
  onProblem: (path: Path, origin: Origin, message: string) => void;
} {
  const absolute = resolve(file);
  const context: Context = {
    file: absolute,
    dir: dirname(absolute),
    issues: [],
    keyPaths: _keyPaths,
  };
  const onProblem = (path: Path, origin: Origin, message: string) =>
    report(context, path, undefined, message, origin);
  return { context, onProblem };
}

/**
 * resolveConfig() (resolve.ts) for text the fast path parses; null for the
 * rest, which resolveConfig() hands to the yaml package.
 * @throws {UserInputError} listing every problem found
 */
export function resolveSimpleConfig(
  text: string,
  file: string,
  env: ConfigEnv = {},
): ResolvedConfig | null {
  const simple = parseSimpleYaml(text);
  if (!simple) return null;
  const { context, onProblem } = newContext(file);
  return finishConfig(topLevel(fromSimple(simple, [], { env, onProblem }), context), env, context);
}

/** Env overrides, validation, defaults, checks and freezing of a parsed tree. */
export function finishConfig(root: MapNode, env: ConfigEnv, context: Context): ResolvedConfig {
  applyOtelEnv(root, env, context);
  applyEnvOverrides(root, _entries, env, context);
  const value = resolveField(configSchema, root, [], context) as PartialConfig;
  checkConfig(value, root, context);
  if (context.issues.length > 0) throw new UserInputError("config", _sorted(context.issues));
  return deepFreeze({ file: context.file, ...value } as ResolvedConfig);
}

/** The top-level node as a map: null (an empty file) is an empty one. */
export function topLevel(node: RawNode, context: Context): MapNode {
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
