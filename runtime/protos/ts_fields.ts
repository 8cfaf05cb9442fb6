/**
 * TypeScript property declarations for message fields, in the two shapes
 * `svc types` emits: as decoded (what handlers receive) and as init (what
 * handlers may send).
 * @module
 */
import protobuf from "protobufjs";
import type { TsNames } from "./ts_names.ts";

const LONGS = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);
const NUMBERS = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32", "float", "double"]);

/**
 * One property of the decoded interface. Matches protobufjs `toObject` with
 * `defaults: true`: scalars, repeated and map fields are always present;
 * unset singular messages are `null`; oneof members and proto3 `optional`
 * fields are absent unless set.
 *
 * @example
 * ```ts
 * decodedProperty(field, names); // "at: Timestamp | null;"
 * ```
 */
export function decodedProperty(field: protobuf.Field, names: TsNames): string {
  const element = _element(field, names, false);
  const key = propertyKey(field.name);
  if (field instanceof protobuf.MapField) return `${key}: Record<string, ${element}>;`;
  if (field.repeated) return `${key}: ${_array(element, false)};`;
  if (field.partOf) return `${key}?: ${element};`;
  if (field.resolvedType instanceof protobuf.Type) return `${key}: ${element} | null;`;
  return `${key}: ${element};`;
}

/**
 * One property of the init interface: optional, `null` meaning unset, except
 * proto2 `required` fields.
 */
export function initProperty(field: protobuf.Field, names: TsNames): string {
  const element = _element(field, names, true);
  const key = propertyKey(field.name);
  if (field.required) return `${key}: ${element};`;
  if (field instanceof protobuf.MapField) return `${key}?: Record<string, ${element}> | null;`;
  if (field.repeated) return `${key}?: ${_array(element, true)} | null;`;
  return `${key}?: ${element} | null;`;
}

/** The property for a oneof's virtual field, naming the member that is set. */
export function oneofProperty(oneof: protobuf.OneOf, init: boolean): string {
  const members = oneof.fieldsArray.map((f) => JSON.stringify(f.name)).join(" | ");
  return `${propertyKey(oneof.name)}?: ${members}${init ? " | null" : ""};`;
}

/** `name`, or `"name"` when it is not an identifier. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

function _array(element: string, readonly: boolean): string {
  const inner = element.includes(" ") ? `(${element})` : element;
  return readonly ? `readonly ${inner}[]` : `${inner}[]`;
}

function _element(field: protobuf.Field, names: TsNames, init: boolean): string {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type || resolved instanceof protobuf.Enum) {
    return init ? names.init(resolved) : names.type(resolved);
  }
  const type = field.type;
  if (type === "string") return "string";
  if (type === "bool") return "boolean";
  if (type === "bytes") return init ? "Uint8Array | string" : "Uint8Array";
  if (NUMBERS.has(type)) return "number";
  if (LONGS.has(type)) return init ? "number | string | bigint" : "string";
  return "unknown";
}
