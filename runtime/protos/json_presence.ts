/**
 * Which fields the canonical JSON mapping writes when they hold their
 * default value: only fields with explicit presence (proto3 `optional`,
 * oneof members, messages, proto2 singular fields). Implicit-presence
 * fields at their default are left out on output and not encoded on input.
 * @module
 */
import protobuf from "protobufjs";

/**
 * True when `field` records whether it was set, apart from its value.
 *
 * @example
 * ```ts
 * tracksPresence(type.fields.nick); // true for `optional string nick = 3;` in proto3
 * ```
 */
export function tracksPresence(field: protobuf.Field): boolean {
  if (field.repeated || field.map) return false;
  return field.hasPresence || field.resolve().resolvedType instanceof protobuf.Type;
}

/**
 * True when `value` (in protobufjs plain-object form: 64-bit integers as
 * strings, bytes as Uint8Array, enums as numbers) is the default of
 * protobufjs type `type` (`int64`, `string`, or an enum's name).
 *
 * @example
 * ```ts
 * isDefaultScalar("int64", "0"); // true
 * isDefaultScalar("string", "0"); // false
 * ```
 */
export function isDefaultScalar(type: string, value: unknown): boolean {
  if (value instanceof Uint8Array) return value.length === 0;
  if (type === "string") return value === "";
  if (type === "bool") return value === false;
  if (type.endsWith("int64") || type.endsWith("fixed64")) return String(value) === "0";
  // Object.is keeps -0 apart from 0: its sign bit is set, so it is not the default.
  return Object.is(value, 0);
}
