/**
 * Resolves one scalar value (string, number, boolean, enum, duration, path)
 * against its field, reporting anything wrong.
 * @module
 */

import { resolve } from "node:path";
import { type Context, report } from "./context.ts";
import type { Path } from "./path.ts";
import { describeValue, expectedText } from "./describe.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import type { RawNode, ScalarNode } from "./raw.ts";
import type { LeafField } from "./schema_types.ts";
import { suggest } from "../util/suggest.ts";

/**
 * Resolves `node` as `field` and returns the value, or undefined after
 * reporting an issue. Strings from `${VAR}` expansion or env vars are
 * coerced to numbers and booleans where the field wants one.
 *
 * @example
 * ```ts
 * import { resolveLeaf } from "./leaf.ts";
 * import { port } from "./schema_types.ts";
 * const context = { file: "/a/svc.yaml", dir: "/a", issues: [] };
 * const node = { type: "scalar", value: "8080", loose: true, origin: {} } as const;
 * resolveLeaf(port({ doc: "" }), node, ["server", "port"], context); // 8080
 * ```
 */
export function resolveLeaf(
  field: LeafField,
  node: RawNode,
  path: Path,
  context: Context,
): unknown {
  const fail = (detail = "") => {
    report(
      context,
      path,
      node,
      `expected ${expectedText(field)}, got ${describeValue(node)}${detail}`,
    );
    return undefined;
  };
  if (node.type !== "scalar") return fail();
  if (node.broken) return undefined;
  const value = node.value;
  switch (field.kind) {
    case "string": {
      if (typeof value !== "string") {
        const scalarish = typeof value === "number" || typeof value === "boolean";
        return fail(scalarish ? " (quote it to make it a string)" : "");
      }
      if (field.pattern && !field.pattern.test(value)) return fail();
      return field.normalize ? field.normalize(value) : value;
    }
    case "integer":
    case "number": {
      const number = _coerceNumber(node);
      if (typeof number !== "number") return fail(_quotedHint(node, _coerceNumber));
      const ok = field.kind === "integer"
        ? Number.isInteger(number) && number >= field.min &&
          (field.max === undefined || number <= field.max)
        : Number.isFinite(number) && (field.above === undefined || number > field.above) &&
          (field.min === undefined || number >= field.min) &&
          (field.max === undefined || number <= field.max);
      return ok ? number : fail();
    }
    case "boolean": {
      const bool = _coerceBoolean(node);
      return typeof bool === "boolean" ? bool : fail(_quotedHint(node, _coerceBoolean));
    }
    case "enum": {
      if (typeof value === "string" && field.values.includes(value)) return value;
      const close = typeof value === "string" ? suggest(value, field.values) : undefined;
      return fail(close ? ` (did you mean "${close}"?)` : "");
    }
    case "duration":
      return _resolveDuration(field.min, node, path, context, fail);
    case "path": {
      if (typeof value !== "string" || value === "") return fail();
      const absolute = resolve(context.dir, value);
      const problem = _checkPath(absolute, field.mustBe);
      if (problem) report(context, path, node, problem);
      return absolute;
    }
  }
}

function _resolveDuration(
  min: number,
  node: ScalarNode,
  path: Path,
  context: Context,
  fail: (detail?: string) => undefined,
): number | undefined {
  const value = node.value;
  if (value === 0) return 0;
  if (typeof value === "number") return fail(` (add a unit, like "${value}s")`);
  if (typeof value !== "string") return fail();
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    report(context, path, node, (error as Error).message);
    return undefined;
  }
  if (ms >= min) return ms;
  report(context, path, node, `expected at least ${formatDuration(min)}, got "${value}"`);
  return undefined;
}

function _coerceNumber(node: ScalarNode): unknown {
  const value = node.value;
  if (!node.loose || typeof value !== "string" || value.trim() === "") return value;
  const number = Number(value);
  return Number.isFinite(number) ? number : value;
}

function _coerceBoolean(node: ScalarNode): unknown {
  const value = node.value;
  if (!node.loose || typeof value !== "string") return value;
  const lower = value.trim().toLowerCase();
  if (lower === "true" || lower === "1") return true;
  if (lower === "false" || lower === "0") return false;
  return value;
}

/** A hint for a quoted YAML string that would have been valid unquoted. */
function _quotedHint(node: ScalarNode, coerce: (node: ScalarNode) => unknown): string {
  if (node.loose || typeof node.value !== "string") return "";
  return typeof coerce({ ...node, loose: true }) === "string" ? "" : " (remove the quotes)";
}

function _checkPath(absolute: string, mustBe: string): string | undefined {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(absolute);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `${mustBe} not found: "${absolute}"`;
    return `cannot access "${absolute}": ${(error as Error).message}`;
  }
  if (mustBe === "file" && !info.isFile) return `expected a file, got a directory: "${absolute}"`;
  if (mustBe === "directory" && !info.isDirectory) {
    return `expected a directory, got a file: "${absolute}"`;
  }
  return undefined;
}
