/**
 * Walks the schema and the raw tree together, filling defaults and
 * collecting every issue: unknown keys, missing keys, wrong types.
 * @module
 */

import { type Context, report } from "./context.ts";
import { formatPath, type Path } from "./path.ts";
import { describeValue, expectedText } from "./describe.ts";
import { resolveLeaf } from "./leaf.ts";
import { fromPlain, type MapNode, type RawNode } from "./raw.ts";
import type { Field, ObjectField, RecordField } from "./schema_types.ts";
import { suggest } from "../util/suggest.ts";

/**
 * Resolves `node` (undefined when the key is absent) as `field`. Returns the
 * value, or undefined for parts that had issues (all reported to `context`).
 * `parent` locates "missing key" issues.
 *
 * @example
 * ```ts
 * import { resolveField } from "./validate.ts";
 * import { configSchema } from "./schema.ts";
 * const context = { file: "/a/svc.yaml", dir: "/a", issues: [] };
 * resolveField(configSchema, undefined, [], context); // all defaults (paths are checked too)
 * ```
 */
export function resolveField(
  field: Field,
  node: RawNode | undefined,
  path: Path,
  context: Context,
  parent?: RawNode,
): unknown {
  const isNull = node?.type === "scalar" && node.value === null && !node.broken;
  if (node === undefined || (isNull && field.kind === "object")) {
    if (field.required) {
      const key = path[path.length - 1];
      const missing = `missing required key "${key}"`;
      report(context, path.slice(0, -1), parent, missing);
      return undefined;
    }
    if (field.default === null) return null;
    if (field.kind === "object") return _resolveObject(field, undefined, path, context);
    if (field.default === undefined) return undefined;
    return resolveField(field, fromPlain(field.default, {}, false), path, context);
  }
  if (isNull && field.default === null) return null;
  switch (field.kind) {
    case "object":
      return _resolveObject(field, node, path, context);
    case "record":
      return _resolveRecord(field, node, path, context);
    case "list": {
      if (node.type !== "seq") return _wrongType(field, node, path, context);
      return node.items.map((item, i) => resolveField(field.item, item, [...path, i], context));
    }
    default:
      return resolveLeaf(field, node, path, context);
  }
}

function _resolveObject(
  field: ObjectField,
  node: RawNode | undefined,
  path: Path,
  context: Context,
): Record<string, unknown> | undefined {
  if (node !== undefined && node.type !== "map") return _wrongType(field, node, path, context);
  const names = Object.keys(field.fields);
  for (const [key, entry] of node?.entries ?? []) {
    if (key in field.fields) continue;
    const hint = _keyHint(key, names, path, context);
    report(context, [...path, key], entry.node, `unknown key "${key}"${hint}`, entry.key);
  }
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(field.fields)) {
    out[name] = resolveField(child, node?.entries.get(name)?.node, [...path, name], context, node);
  }
  field.finish?.(out);
  return out;
}

function _resolveRecord(
  field: RecordField,
  node: RawNode,
  path: Path,
  context: Context,
): Record<string, unknown> | undefined {
  if (node.type !== "map") return _wrongType(field, node, path, context);
  const out: Record<string, unknown> = {};
  for (const [key, entry] of (node as MapNode).entries) {
    if (field.keyPattern && !field.keyPattern.test(key)) {
      const message = `invalid key "${key}": expected ${field.keyExpected ?? field.keyName}`;
      report(context, [...path, key], entry.node, message, entry.key);
      continue;
    }
    out[key] = resolveField(field.value, entry.node, [...path, key], context, node);
  }
  return out;
}

function _wrongType(field: Field, node: RawNode, path: Path, context: Context): undefined {
  if (node.type === "scalar" && node.broken) return undefined;
  report(context, path, node, `expected ${expectedText(field)}, got ${describeValue(node)}`);
  return undefined;
}

/**
 * A "did you mean" for an unknown key: a sibling differing only in case, else
 * same-named keys in other sections (`port` → `server.port`), else the
 * nearest sibling.
 */
function _keyHint(key: string, siblings: string[], path: Path, context: Context): string {
  const lower = key.toLowerCase();
  const cased = siblings.find((name) => name.toLowerCase() === lower);
  const here = formatPath(path);
  const elsewhere = cased ? [] : (context.keyPaths ?? [])
    .filter((p) =>
      String(p[p.length - 1]).toLowerCase() === lower && formatPath(p.slice(0, -1)) !== here
    )
    .map((p) => `"${formatPath(p)}"`);
  const close = cased ?? suggest(key, siblings);
  if (elsewhere.length > 0 && elsewhere.length <= 3) {
    return ` (did you mean ${elsewhere.join(" or ")}?)`;
  }
  return close ? ` (did you mean "${close}"?)` : "";
}
