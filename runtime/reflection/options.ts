/**
 * Encodes the options a .proto file sets on a file, message, field, enum,
 * service or method into the option message (`MethodOptions`, ...), custom
 * options (extensions such as `(google.api.http)`) included.
 * @module
 */
import protobuf from "protobufjs";
import { type EncodedOptions, type OptionsKind, optionsType } from "./descriptor_types.ts";

/** One `option name = value;` as protobufjs parsed it, e.g. `["(http).get", "/v1"]`. */
export type OptionEntry = readonly [name: string, value: unknown];

/** Options that protoc keeps elsewhere in the descriptor, never in `options`. */
const _PSEUDO = new Set(["default", "json_name", "proto3_optional"]);

/**
 * The options written on a protobufjs object, in source order: its
 * `parsedOptions`. Its `options` also hold what the parser adds itself
 * (`proto3_optional`, file-level editions features copied down), which
 * protoc does not write there.
 *
 * @example
 * ```ts
 * optionEntries(method); // [["idempotency_level", "IDEMPOTENT"]]
 * ```
 */
export function optionEntries(object: protobuf.ReflectionObject): OptionEntry[] {
  // protobufjs types `parsedOptions` loosely; it is a list of one-key objects.
  const parsed = object.parsedOptions as unknown as Record<string, unknown>[] | null | undefined;
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((o) => Object.entries(o) as OptionEntry[]);
}

/** True for the message type of a proto2 `group` field. */
export function isGroupType(type: protobuf.Type): boolean {
  return (type as protobuf.Type & { group?: boolean }).group === true;
}

/**
 * Encodes `entries` as a `kind` message. Standard options become its
 * fields; custom options are looked up from `scope` (a namespace of the
 * resolved root, where the option is written) and encoded as extension
 * fields. Unknown or unencodable options are left out. Returns undefined
 * when nothing is set.
 *
 * @example
 * ```ts
 * encodeOptions("MethodOptions", [["idempotency_level", "IDEMPOTENT"]], root);
 * ```
 */
export function encodeOptions(
  kind: OptionsKind,
  entries: readonly OptionEntry[],
  scope: protobuf.Namespace | null,
): EncodedOptions | undefined {
  const type = optionsType(kind);
  const standard: Record<string, unknown> = {};
  const custom: Uint8Array[] = [];
  for (const [name, value] of entries) {
    if (_PSEUDO.has(name)) continue;
    const { head, path } = _splitName(name);
    const nested = _nest(path, value);
    if (head.startsWith("(")) {
      const bytes = scope ? _encodeCustom(kind, head.slice(1, -1), nested, scope) : undefined;
      if (bytes) custom.push(bytes);
      continue;
    }
    const field = type.fields[protobuf.util.camelCase(head)];
    if (!field) continue;
    _assign(standard, field, nested);
  }
  let encoded: Uint8Array;
  try {
    encoded = type.encode(type.fromObject(standard)).finish();
  } catch {
    encoded = new Uint8Array();
  }
  const total = custom.reduce((n, b) => n + b.length, encoded.length);
  if (total === 0) return Object.keys(standard).length ? new Uint8Array() : undefined;
  const out = new Uint8Array(total);
  out.set(encoded);
  let offset = encoded.length;
  for (const bytes of custom) {
    out.set(bytes, offset);
    offset += bytes.length;
  }
  return out;
}

/** `(a.b).c.d` → head `(a.b)`, path `["c", "d"]`; `deprecated` → head only. */
function _splitName(name: string): { head: string; path: string[] } {
  const close = name.startsWith("(") ? name.indexOf(")") : -1;
  const headEnd = close >= 0
    ? close + 1
    : (name.indexOf(".") >= 0 ? name.indexOf(".") : name.length);
  const rest = name.slice(headEnd).replace(/^\./, "");
  return { head: name.slice(0, headEnd), path: rest ? rest.split(".") : [] };
}

function _nest(path: readonly string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

function _assign(target: Record<string, unknown>, field: protobuf.Field, value: unknown): void {
  const key = field.name;
  const converted = _camelKeys(value);
  if (field.repeated) {
    const list = (target[key] as unknown[] | undefined) ?? [];
    target[key] = list.concat(converted);
  } else if (_isPlainObject(target[key]) && _isPlainObject(converted)) {
    target[key] = { ...(target[key] as object), ...(converted as object) };
  } else {
    target[key] = converted;
  }
}

function _encodeCustom(
  kind: OptionsKind,
  name: string,
  value: unknown,
  scope: protobuf.Namespace,
): Uint8Array | undefined {
  const extension = _findExtension(name, scope, kind);
  if (!extension) return undefined;
  try {
    const writer = protobuf.Writer.create();
    for (const item of Array.isArray(value) ? value : [value]) {
      _writeValue(writer, extension, item);
    }
    return writer.finish();
  } catch {
    return undefined;
  }
}

function _findExtension(
  name: string,
  scope: protobuf.Namespace,
  kind: OptionsKind,
): protobuf.Field | null {
  const dot = name.lastIndexOf(".");
  const camel = name.slice(0, dot + 1) + protobuf.util.camelCase(name.slice(dot + 1));
  for (const candidate of new Set([name, camel])) {
    let found: protobuf.ReflectionObject | null = null;
    try {
      found = scope.lookup(candidate);
    } catch {
      found = null;
    }
    if (!(found instanceof protobuf.Field) || found.extend === undefined) continue;
    const extendee = found.extensionField?.parent?.fullName;
    if (extendee === `.google.protobuf.${kind}`) return found;
  }
  return null;
}

function _writeValue(writer: protobuf.Writer, field: protobuf.Field, value: unknown): void {
  field.resolve();
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    const number = typeof value === "number" ? value : resolved.values[String(value)];
    if (number === undefined) throw new Error(`unknown enum value ${String(value)}`);
    writer.uint32(field.id << 3 | 0).int32(number);
    return;
  }
  if (resolved instanceof protobuf.Type) {
    if (isGroupType(resolved)) throw new Error("group options are not supported");
    const message = resolved.fromObject(_messageObject(resolved, value));
    writer.uint32(field.id << 3 | 2).bytes(resolved.encode(message).finish());
    return;
  }
  const wireType = (protobuf.types.basic as Record<string, number>)[field.type];
  if (wireType === undefined) throw new Error(`unknown type ${field.type}`);
  const encoded = field.type === "bytes" && typeof value === "string"
    ? new TextEncoder().encode(value)
    : value;
  writer.uint32(field.id << 3 | wireType);
  (writer as unknown as Record<string, (v: unknown) => void>)[field.type](encoded);
}

/** A text-format value as `fromObject` wants it: camelCase keys, repeated fields as arrays. */
function _messageObject(type: protobuf.Type, value: unknown): Record<string, unknown> {
  if (!_isPlainObject(value)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value as object)) {
    const field = type.fields[protobuf.util.camelCase(key)] ?? type.fields[key];
    if (!field) continue;
    field.resolve();
    const convert = (v: unknown) =>
      field.resolvedType instanceof protobuf.Type ? _messageObject(field.resolvedType, v) : v;
    out[field.name] = field.repeated
      ? (Array.isArray(raw) ? raw : [raw]).map(convert)
      : convert(raw);
  }
  return out;
}

function _camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(_camelKeys);
  if (!_isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value as object).map(([k, v]) => [protobuf.util.camelCase(k), _camelKeys(v)]),
  );
}

function _isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}
