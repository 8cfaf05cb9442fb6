/**
 * The well-known types whose canonical JSON is not a plain object of
 * fields: Timestamp, Duration, the wrappers, Struct, Value, ListValue,
 * FieldMask and Any. Empty needs nothing special (`{}`). Fields are found by
 * number, not name: the built-in definitions spell them differently (`type_url`).
 * @module
 */
import protobuf from "protobufjs";
import { describeJson, fieldPath, indexPath, JsonMappingError, keyPath } from "./json_error.ts";
import { JsonNumber, type JsonObject, type JsonValue } from "./json_parse.ts";
import { readScalar, writeScalar } from "./json_scalars.ts";
import {
  readDuration,
  readTimestamp,
  type SecondsNanos,
  writeDuration,
  writeTimestamp,
} from "./json_wkt_time.ts";

type _Object = Record<string, unknown>;

/** What a well-known type's writer needs from the message writer. */
export interface WktWriteContext {
  /** Any other message (the payload of an Any) as JSON. */
  message(type: protobuf.Type, object: _Object, path: string): unknown;
  /** Decodes an Any's payload. */
  decode(type: protobuf.Type, bytes: Uint8Array, path: string): _Object;
}

/** What a well-known type's reader needs from the message reader. */
export interface WktReadContext {
  /** Any other message (the payload of an Any) from JSON. */
  message(type: protobuf.Type, json: JsonValue, path: string): _Object;
  /** Encodes an Any's payload. */
  encode(type: protobuf.Type, object: _Object): Uint8Array;
  /** Skip unknown fields instead of refusing them. */
  readonly ignoreUnknown: boolean;
}

const _WRAPPERS = new Set(
  ["Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes"]
    .map((t) => `.google.protobuf.${t}Value`),
);
const _SPECIAL = new Set([
  ..._WRAPPERS,
  ...["Timestamp", "Duration", "Struct", "Value", "ListValue", "FieldMask", "Any"]
    .map((t) => `.google.protobuf.${t}`),
]);

/**
 * True when `type` has a JSON form of its own (and, inside an Any, is
 * written as `{"@type": ..., "value": <that form>}`).
 *
 * @example
 * ```ts
 * isSpecialWkt(root.lookupType("google.protobuf.Timestamp")); // true
 * ```
 */
export function isSpecialWkt(type: protobuf.Type): boolean {
  return _SPECIAL.has(type.fullName);
}

/**
 * A well-known type's `toObject` output as its canonical JSON value.
 *
 * @example
 * ```ts
 * writeWkt(timestampType, { seconds: "0" }, "", ctx); // "1970-01-01T00:00:00Z"
 * ```
 */
export function writeWkt(
  type: protobuf.Type,
  object: _Object,
  path: string,
  ctx: WktWriteContext,
): unknown {
  const get = (id: number) => object[type.fieldsById[id].name];
  const name = type.fullName;
  if (_WRAPPERS.has(name)) {
    const field = type.fieldsById[1];
    return writeScalar(field.type, get(1) ?? _defaultOf(field));
  }
  switch (name) {
    case ".google.protobuf.Timestamp":
    case ".google.protobuf.Duration": {
      const value = { seconds: String(get(1) ?? "0"), nanos: Number(get(2) ?? 0) };
      return name.endsWith("Timestamp") ? writeTimestamp(value, path) : writeDuration(value, path);
    }
    case ".google.protobuf.FieldMask":
      return ((get(1) ?? []) as string[]).map((p) => _maskPathToJson(p, path)).join(",");
    case ".google.protobuf.Struct": {
      const out: _Object = {};
      const valueType = type.fieldsById[1].resolvedType as protobuf.Type;
      for (const [key, value] of Object.entries((get(1) ?? {}) as _Object)) {
        out[key] = writeWkt(valueType, value as _Object, keyPath(path, key), ctx);
      }
      return out;
    }
    case ".google.protobuf.ListValue": {
      const valueType = type.fieldsById[1].resolvedType as protobuf.Type;
      return ((get(1) ?? []) as _Object[]).map((v, i) =>
        writeWkt(valueType, v, indexPath(path, i), ctx)
      );
    }
    case ".google.protobuf.Value":
      return _writeValue(type, object, path, ctx);
    case ".google.protobuf.Any":
      return _writeAny(type, object, path, ctx);
  }
  throw new Error(`Not a special well-known type: ${name}`);
}

/**
 * A well-known type's canonical JSON value as an object for `fromObject`.
 *
 * @example
 * ```ts
 * readWkt(durationType, "1.5s", "timeout", ctx); // { seconds: "1", nanos: 500000000 }
 * ```
 */
export function readWkt(
  type: protobuf.Type,
  json: JsonValue,
  path: string,
  ctx: WktReadContext,
): _Object {
  const set = (pairs: [number, unknown][]): _Object =>
    Object.fromEntries(pairs.map(([id, v]) => [type.fieldsById[id].name, v]));
  const name = type.fullName;
  if (_WRAPPERS.has(name)) return set([[1, readScalar(type.fieldsById[1].type, json, path)]]);
  switch (name) {
    case ".google.protobuf.Timestamp":
    case ".google.protobuf.Duration": {
      const value: SecondsNanos = name.endsWith("Timestamp")
        ? readTimestamp(json, path)
        : readDuration(json, path);
      return set([[1, value.seconds], [2, value.nanos]]);
    }
    case ".google.protobuf.FieldMask": {
      if (typeof json !== "string") _fail(path, `expected a string, got ${describeJson(json)}`);
      const paths = json === "" ? [] : json.split(",").map((p) => _maskPathFromJson(p, path));
      return set([[1, paths]]);
    }
    case ".google.protobuf.Struct": {
      if (!(json instanceof Map)) _fail(path, `expected an object, got ${describeJson(json)}`);
      const valueType = type.fieldsById[1].resolvedType as protobuf.Type;
      const fields: _Object = {};
      for (const [key, value] of json) {
        fields[key] = readWkt(valueType, value, keyPath(path, key), ctx);
      }
      return set([[1, fields]]);
    }
    case ".google.protobuf.ListValue": {
      if (!Array.isArray(json)) _fail(path, `expected an array, got ${describeJson(json)}`);
      const valueType = type.fieldsById[1].resolvedType as protobuf.Type;
      return set([[1, json.map((v, i) => readWkt(valueType, v, indexPath(path, i), ctx))]]);
    }
    case ".google.protobuf.Value":
      return _readValue(type, json, path, ctx);
    case ".google.protobuf.Any":
      return _readAny(type, json, path, ctx);
  }
  throw new Error(`Not a special well-known type: ${name}`);
}

function _writeValue(type: protobuf.Type, object: _Object, path: string, ctx: WktWriteContext) {
  for (const field of type.fieldsArray) {
    const value = object[field.name];
    if (value === undefined || value === null) continue;
    switch (field.id) {
      case 1:
        return null;
      case 2: {
        const n = value as number;
        if (!Number.isFinite(n)) _fail(path, `Value cannot hold ${n} in JSON`);
        return n;
      }
      case 3:
      case 4:
        return value;
      default:
        return writeWkt(field.resolvedType as protobuf.Type, value as _Object, path, ctx);
    }
  }
  // No kind set: Python and Go both write null.
  return null;
}

function _readValue(type: protobuf.Type, json: JsonValue, path: string, ctx: WktReadContext) {
  const field = (id: number) => type.fieldsById[id];
  const one = (id: number, value: unknown): _Object => ({ [field(id).name]: value });
  if (json === null) return one(1, 0);
  if (json instanceof JsonNumber) {
    if (!Number.isFinite(json.value)) _fail(path, `${json.text} is out of range for a Value`);
    return one(2, json.value);
  }
  if (typeof json === "string") return one(3, json);
  if (typeof json === "boolean") return one(4, json);
  if (json instanceof Map) {
    return one(5, readWkt(field(5).resolvedType as protobuf.Type, json, path, ctx));
  }
  return one(6, readWkt(field(6).resolvedType as protobuf.Type, json, path, ctx));
}

function _writeAny(type: protobuf.Type, object: _Object, path: string, ctx: WktWriteContext) {
  const url = String(object[type.fieldsById[1].name] ?? "");
  const bytes = (object[type.fieldsById[2].name] ?? new Uint8Array()) as Uint8Array;
  if (url === "" && bytes.length === 0) return {};
  const inner = _resolveAny(type, url, path);
  const decoded = ctx.decode(inner, bytes, path);
  if (isSpecialWkt(inner)) {
    return { "@type": url, value: writeWkt(inner, decoded, fieldPath(path, "value"), ctx) };
  }
  const fields = ctx.message(inner, decoded, path) as _Object;
  return { "@type": url, ...fields };
}

function _readAny(type: protobuf.Type, json: JsonValue, path: string, ctx: WktReadContext) {
  if (!(json instanceof Map)) _fail(path, `expected an object, got ${describeJson(json)}`);
  if (json.size === 0) return {};
  const url = json.get("@type");
  if (typeof url !== "string") _fail(fieldPath(path, "@type"), "missing or not a string");
  const inner = _resolveAny(type, url, fieldPath(path, "@type"));
  const rest: JsonObject = new Map([...json].filter(([key]) => key !== "@type"));
  let object: _Object;
  if (isSpecialWkt(inner)) {
    for (const key of rest.keys()) {
      if (key !== "value" && !ctx.ignoreUnknown) _fail(fieldPath(path, key), "unknown field");
    }
    if (!rest.has("value")) _fail(fieldPath(path, "value"), "missing");
    object = readWkt(inner, rest.get("value")!, fieldPath(path, "value"), ctx);
  } else {
    object = ctx.message(inner, rest, path);
  }
  return {
    [type.fieldsById[1].name]: url,
    [type.fieldsById[2].name]: ctx.encode(inner, object),
  };
}

function _resolveAny(anyType: protobuf.Type, url: string, path: string): protobuf.Type {
  const slash = url.lastIndexOf("/");
  const name = url.slice(slash + 1);
  const found = slash >= 0 && name ? anyType.root.lookup(name) : null;
  if (!(found instanceof protobuf.Type)) {
    _fail(path, `cannot resolve Any type "${url}": not a message type of the loaded protos`);
  }
  return found;
}

function _maskPathToJson(path: string, at: string): string {
  if (/[A-Z]|_(?![a-z])/.test(path)) {
    _fail(at, `FieldMask path "${path}" cannot be written in JSON`);
  }
  return path.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function _maskPathFromJson(path: string, at: string): string {
  if (path.includes("_")) _fail(at, `FieldMask path "${path}" must be lowerCamel`);
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function _defaultOf(field: protobuf.Field): unknown {
  if (field.type === "bytes") return new Uint8Array();
  if (field.type === "string") return "";
  if (field.type === "bool") return false;
  return field.type.endsWith("64") ? "0" : 0;
}

function _fail(path: string, reason: string): never {
  throw new JsonMappingError(path, reason);
}
