/**
 * Applies `SVC_*` environment overrides onto the raw config tree.
 * @module
 */

import { type Context, report } from "./context.ts";
import type { SchemaEntry } from "./entries.ts";
import { fromPlain, type MapNode, type RawNode, scalar, setAt } from "./raw.ts";

/**
 * Sets every key whose env var is present in `env`, over what the file says.
 * Parents are applied before children, so `SVC_SERVER_TLS_CERT` lands inside
 * the object `SVC_SERVER_TLS` set. Text that cannot be parsed is reported
 * against the variable's name; unrelated `SVC_*` variables are ignored.
 *
 * @example
 * ```ts
 * import { applyEnvOverrides } from "./env.ts";
 * import { listEntries } from "./entries.ts";
 * import { emptyMap } from "./raw.ts";
 * import { configSchema } from "./schema.ts";
 * const context = { file: "/a/svc.yaml", dir: "/a", issues: [] };
 * const root = emptyMap();
 * applyEnvOverrides(root, listEntries(configSchema), { SVC_SERVER_PORT: "0" }, context);
 * ```
 */
export function applyEnvOverrides(
  root: MapNode,
  entries: readonly SchemaEntry[],
  env: Readonly<Record<string, string | undefined>>,
  context: Context,
): void {
  for (const entry of entries) {
    if (!entry.env) continue;
    const { name, mode } = entry.env;
    const text = env[name];
    if (text === undefined) continue;
    const node = _parse(text, mode, name, context);
    if (node) setAt(root, entry.path, node);
  }
}

function _parse(text: string, mode: string, name: string, context: Context): RawNode | undefined {
  const origin = { env: name };
  const trimmed = text.trim();
  if (mode === "scalar") return scalar(text, origin, true);
  if (mode === "list" && !trimmed.startsWith("[")) {
    const items = trimmed === "" ? [] : trimmed.split(",").map((item) => item.trim());
    return fromPlain(items, origin, true);
  }
  if (mode === "json" && (trimmed === "" || trimmed === "null")) return scalar(null, origin);
  try {
    return fromPlain(JSON.parse(trimmed), origin, true);
  } catch (error) {
    report(
      context,
      [],
      undefined,
      `cannot parse "${text}" as JSON: ${(error as Error).message}`,
      origin,
    );
    return undefined;
  }
}
