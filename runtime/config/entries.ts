/**
 * Flattens the schema into one entry per key, with the env var that
 * overrides it. Env overrides, the reference table and "did you mean"
 * suggestions all read this list.
 * @module
 */

import type { Field, ObjectField } from "./schema_types.ts";

/** How an env var's text becomes a value. */
export type EnvMode = "scalar" | "list" | "json";

/** One key of the schema. */
export interface SchemaEntry {
  /** YAML path; a record's user-chosen key appears as `<keyName>`. */
  path: readonly string[];
  field: Field;
  /** The env var that overrides this key, if any. */
  env?: { name: string; mode: EnvMode };
}

/**
 * The env var for a YAML path: `SVC_`, then each key in UPPER_SNAKE case
 * (a new word at every capital letter), joined by `_`.
 *
 * @example
 * ```ts
 * import { envName } from "./entries.ts";
 * envName(["server", "maxReceiveMessageBytes"]); // "SVC_SERVER_MAX_RECEIVE_MESSAGE_BYTES"
 * ```
 */
export function envName(path: readonly string[]): string {
  return `SVC_${path.map((key) => key.replace(/([A-Z])/g, "_$1").toUpperCase()).join("_")}`;
}

/**
 * Lists every key under `root`, parents before children. Scalars are
 * overridden by their own env var; lists too (comma-separated or JSON);
 * records and nullable sections as a whole JSON value. Keys inside a
 * record's values have no env var.
 *
 * @example
 * ```ts
 * import { listEntries } from "./entries.ts";
 * import { configSchema } from "./schema.ts";
 * listEntries(configSchema).find((e) => e.env?.name === "SVC_SERVER_PORT");
 * ```
 */
export function listEntries(root: ObjectField): SchemaEntry[] {
  const out: SchemaEntry[] = [];
  _walk(root, [], true, out);
  return out;
}

function _walk(field: ObjectField, path: string[], envAllowed: boolean, out: SchemaEntry[]) {
  for (const [name, child] of Object.entries(field.fields)) {
    const childPath = [...path, name];
    const mode = _mode(child);
    out.push({
      path: childPath,
      field: child,
      ...(envAllowed && mode ? { env: { name: envName(childPath), mode } } : {}),
    });
    if (child.kind === "object") _walk(child, childPath, envAllowed, out);
    if (child.kind === "record" && child.value.kind === "object") {
      _walk(child.value, [...childPath, `<${child.keyName}>`], false, out);
    }
  }
}

function _mode(field: Field): EnvMode | undefined {
  if (field.kind === "object") return field.default === null ? "json" : undefined;
  if (field.kind === "record") return "json";
  if (field.kind === "list") return "list";
  return "scalar";
}
