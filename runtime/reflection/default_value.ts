/**
 * `FieldDescriptorProto.default_value` text, as protoc writes it.
 * @module
 */
import { FieldType } from "./descriptor_types.ts";

/**
 * Formats a proto2 `[default = ...]` value the way protoc stores it: numbers
 * in decimal (`inf`, `-inf`, `nan` for floats), booleans as `true`/`false`,
 * enum values by name, strings as they are, bytes C-escaped.
 *
 * @example
 * ```ts
 * defaultValueText(Infinity, FieldType.DOUBLE); // "inf"
 * defaultValueText("a\u0001", FieldType.BYTES); // "a\\001"
 * ```
 */
export function defaultValueText(value: unknown, type: number): string {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (value === Infinity) return "inf";
    if (value === -Infinity) return "-inf";
    return String(value);
  }
  if (type === FieldType.BYTES && typeof value === "string") return _cEscape(value);
  return String(value);
}

function _cEscape(text: string): string {
  let out = "";
  const bytes = [...text].flatMap((ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x100 ? [code] : [...new TextEncoder().encode(ch)];
  });
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (c === '"' || c === "'" || c === "\\") out += `\\${c}`;
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString(8).padStart(3, "0")}`;
    else out += c;
  }
  return out;
}
