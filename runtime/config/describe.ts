/**
 * Words for fields and values, shared by error messages and the reference.
 * @module
 */

import type { Field } from "./schema_types.ts";
import type { RawNode } from "./raw.ts";

/**
 * What a valid value looks like, as used in `expected X, got Y` messages.
 *
 * @example
 * ```ts
 * import { expectedText } from "./describe.ts";
 * import { port } from "./schema_types.ts";
 * expectedText(port({ doc: "" })); // "a port number 0-65535"
 * ```
 */
export function expectedText(field: Field): string {
  switch (field.kind) {
    case "string":
      return field.expected ?? "a string";
    case "integer":
      return field.expected ??
        (field.max === undefined
          ? `an integer >= ${field.min}`
          : `an integer ${field.min}-${field.max}`);
    case "number":
      return field.above !== undefined
        ? `a number > ${field.above}`
        : `a number ${field.min}-${field.max}`;
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${field.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "duration":
      return `a duration like "10s" or "1h30m"`;
    case "path":
      return `a path to a ${field.mustBe}`;
    case "list":
      return "a list";
    case "record":
    case "object":
      return "a mapping";
  }
}

/**
 * A short type label for the reference table.
 *
 * @example
 * ```ts
 * import { typeLabel } from "./describe.ts";
 * import { boolean } from "./schema_types.ts";
 * typeLabel(boolean({ doc: "" })); // "boolean"
 * ```
 */
export function typeLabel(field: Field): string {
  const orNull = field.default === null ? " or null" : "";
  switch (field.kind) {
    case "string":
      return `string${orNull}`;
    case "integer":
      return field.max === undefined
        ? `integer >= ${field.min}`
        : `integer ${field.min}-${field.max}`;
    case "number":
      return field.above !== undefined
        ? `number > ${field.above}`
        : `number ${field.min}-${field.max}`;
    case "boolean":
      return "boolean";
    case "enum":
      return field.values.map((v) => `\`${v}\``).join(" | ");
    case "duration":
      return "duration";
    case "path":
      return `path (${field.mustBe})${orNull}`;
    case "list":
      return `list of ${typeLabel(field.item)}`;
    case "record":
      return `map of ${field.keyName} to ${typeLabel(field.value)}`;
    case "object":
      return `mapping${orNull}`;
  }
}

/**
 * A value as quoted in `got Y`: strings JSON-quoted (and shortened), other
 * scalars as written, containers by kind.
 *
 * @example
 * ```ts
 * import { describeValue } from "./describe.ts";
 * describeValue({ type: "scalar", value: "abc", loose: false, origin: {} }); // "\"abc\""
 * ```
 */
export function describeValue(node: RawNode): string {
  if (node.type === "map") return "a mapping";
  if (node.type === "seq") return "a list";
  const value = node.value;
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (value === null || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  return `a ${typeof value} value`;
}
