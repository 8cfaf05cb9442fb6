/**
 * Renders the config reference table (for the README) from the schema.
 * @module
 */

import { typeLabel } from "./describe.ts";
import { listEntries, type SchemaEntry } from "./entries.ts";
import { configSchema } from "./schema.ts";

const HEADER = ["Key", "Type", "Default", "Env var", "Description"];

/**
 * A markdown table with one row per config key: YAML path, type, default,
 * the env var that overrides it, and a one-line description. Plain sections
 * (like `server`) have no row; nullable ones (like `server.tls`) do.
 *
 * @example
 * ```ts
 * import { renderConfigReference } from "./reference.ts";
 * console.log(renderConfigReference());
 * ```
 */
export function renderConfigReference(): string {
  const rows = listEntries(configSchema)
    .filter(({ field }) => field.kind !== "object" || field.default === null)
    .map(_row);
  const table = [HEADER, ...rows].map((cells) => cells.map(_escape));
  const widths = HEADER.map((_, i) => Math.max(...table.map((cells) => cells[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  const rule = `| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`;
  return [line(table[0]), rule, ...table.slice(1).map(line)].join("\n") + "\n";
}

function _row({ path, field, env }: SchemaEntry): string[] {
  const env_ = env ? `\`${env.name}\`${env.mode === "json" ? " (JSON)" : ""}` : "";
  return [`\`${path.join(".")}\``, typeLabel(field), _default(field), env_, field.doc];
}

function _default(field: SchemaEntry["field"]): string {
  if (field.defaultText !== undefined) return field.defaultText;
  if (field.required) return "required";
  if (field.default === undefined) return "";
  const value = field.default;
  return typeof value === "string" && value !== ""
    ? `\`${value}\``
    : `\`${JSON.stringify(value)}\``;
}

function _escape(cell: string): string {
  return cell.replaceAll("|", "\\|");
}

if (import.meta.main) console.log(renderConfigReference().trimEnd());
