/**
 * Scalar values (numbers, bools, strings, bytes, enums) between their
 * protobufjs plain-object form and canonical JSON.
 * @module
 */
import protobuf from "protobufjs";
import { describeJson, JsonMappingError } from "./json_error.ts";
import { JsonNumber, type JsonValue } from "./json_parse.ts";

/** Returned by {@link readEnum} for an unknown name when unknown fields are ignored. */
export const SKIP: unique symbol = Symbol("skip");

const _INT64 = new Set(["int64", "sint64", "sfixed64"]);
const _UINT64 = new Set(["uint64", "fixed64"]);
const _INT32 = new Set(["int32", "sint32", "sfixed32"]);
const _UINT32 = new Set(["uint32", "fixed32"]);
const _NEGATIVE_ZERO = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON("-0");
const _DIGITS = /^-?\d+$/;
const _DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** True for the scalar type names protobufjs uses (`int64`, `bytes`, ...). */
export function isScalarType(type: string): boolean {
  return type in protobuf.types.basic;
}

/**
 * One scalar of protobufjs type `type` (`toObject` output with `longs:
 * String`, `enums: Number`) as a canonical JSON value.
 *
 * @example
 * ```ts
 * writeScalar("int64", "12"); // "12"
 * writeScalar("float", 0.10000000149011612); // 0.1
 * writeScalar("bytes", new Uint8Array([255])); // "/w=="
 * ```
 */
export function writeScalar(type: string, value: unknown): unknown {
  if (_INT64.has(type) || _UINT64.has(type)) return String(value);
  if (type === "double" || type === "float") {
    const n = value as number;
    if (Number.isNaN(n)) return "NaN";
    if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
    // JSON.stringify writes -0 as 0, losing the sign Python and Go keep.
    if (Object.is(n, -0)) return _NEGATIVE_ZERO;
    return type === "float" ? _shortestFloat32(n) : n;
  }
  if (type === "bytes") return _base64(value as Uint8Array);
  return value;
}

/**
 * An enum number as JSON: its name, `null` for `google.protobuf.NullValue`,
 * or the number itself when the enum has no such value.
 *
 * @example
 * ```ts
 * writeEnum(enumType, 1); // "RED"
 * ```
 */
export function writeEnum(type: protobuf.Enum, value: number): unknown {
  if (type.fullName === ".google.protobuf.NullValue") return null;
  return type.valuesById[value] ?? value;
}

/**
 * One JSON scalar for a field of protobufjs type `type`, in the form
 * protobufjs's `fromObject` takes (64-bit integers as decimal strings, bytes
 * as Uint8Array). Throws JsonMappingError at `path` when it does not fit.
 *
 * @example
 * ```ts
 * readScalar("int64", new JsonNumber("9223372036854775807"), "id"); // "9223372036854775807"
 * readScalar("bytes", "_w", "data"); // Uint8Array [255]
 * ```
 */
export function readScalar(type: string, json: JsonValue, path: string): unknown {
  if (_INT32.has(type) || _UINT32.has(type)) {
    const n = _readInteger(json, path);
    const [min, max] = _UINT32.has(type) ? [0n, 0xffffffffn] : [-(2n ** 31n), 2n ** 31n - 1n];
    if (n < min || n > max) _fail(path, `${n} is out of range for ${type}`);
    return Number(n);
  }
  if (_INT64.has(type) || _UINT64.has(type)) {
    const n = _readInteger(json, path);
    const [min, max] = _UINT64.has(type) ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
    if (n < min || n > max) _fail(path, `${n} is out of range for ${type}`);
    return n.toString();
  }
  if (type === "double" || type === "float") return _readFloat(type, json, path);
  if (type === "bool") {
    if (typeof json !== "boolean") _fail(path, `expected true or false, got ${describeJson(json)}`);
    return json;
  }
  if (typeof json !== "string") _fail(path, `expected a string, got ${describeJson(json)}`);
  if (type === "bytes") return _readBase64(json, path);
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(json)) {
    _fail(path, "string holds an unpaired surrogate");
  }
  return json;
}

/**
 * A map key (always a JSON string) for a map whose keys have protobufjs type
 * `type`, as the string key `fromObject` takes.
 *
 * @example
 * ```ts
 * readMapKey("int32", "-5", 'ids["-5"]'); // "-5"
 * ```
 */
export function readMapKey(type: string, key: string, path: string): string {
  if (type === "string") return key;
  if (type === "bool") {
    if (key !== "true" && key !== "false") _fail(path, `expected a bool map key, got "${key}"`);
    return key;
  }
  return String(readScalar(type, key, path));
}

/**
 * A JSON enum value (name, or number) as its number; {@link SKIP} for an
 * unknown name when `ignoreUnknown`. Numbers outside a closed (proto2)
 * enum are refused.
 *
 * @example
 * ```ts
 * readEnum(colorEnum, "RED", "color", false); // 1
 * ```
 */
export function readEnum(
  type: protobuf.Enum,
  json: JsonValue,
  path: string,
  ignoreUnknown: boolean,
): number | typeof SKIP {
  if (type.fullName === ".google.protobuf.NullValue" && json === null) return 0;
  if (typeof json === "string" && Object.hasOwn(type.values, json)) return type.values[json];
  if (typeof json === "string" && !_DIGITS.test(json)) {
    if (ignoreUnknown) return SKIP;
    _fail(path, `unknown value ${describeJson(json)} for enum ${type.fullName.slice(1)}`);
  }
  if (!(json instanceof JsonNumber) && typeof json !== "string") {
    _fail(path, `expected an enum name or number, got ${describeJson(json)}`);
  }
  const n = Number(readScalar("int32", json, path));
  const closed = (type as unknown as { _features?: { enum_type?: string } })._features
    ?.enum_type === "CLOSED";
  if (closed && type.valuesById[n] === undefined) {
    _fail(path, `unknown value ${n} for enum ${type.fullName.slice(1)}`);
  }
  return n;
}

function _readInteger(json: JsonValue, path: string): bigint {
  if (json instanceof JsonNumber) {
    if (_DIGITS.test(json.text)) return BigInt(json.text);
    const n = json.value;
    if (!Number.isInteger(n)) _fail(path, `expected an integer, got ${json.text}`);
    return BigInt(n);
  }
  if (typeof json === "string" && _DIGITS.test(json)) return BigInt(json);
  return _fail(path, `expected an integer, got ${describeJson(json)}`);
}

function _readFloat(type: string, json: JsonValue, path: string): number {
  let n: number;
  if (json instanceof JsonNumber) n = json.value;
  else if (json === "NaN") return NaN;
  else if (json === "Infinity") return Infinity;
  else if (json === "-Infinity") return -Infinity;
  else if (typeof json === "string" && _DECIMAL.test(json)) n = Number(json);
  else return _fail(path, `expected a number, got ${describeJson(json)}`);
  if (!Number.isFinite(n)) _fail(path, `${json} is out of range for ${type}`);
  // Out of float's range only when it does not round to the largest float.
  if (type === "float" && !Number.isFinite(Math.fround(n))) {
    _fail(path, `${json} is out of range for float`);
  }
  return n;
}

/** The shortest decimal that reads back as the same float32, as Python and Go write it. */
function _shortestFloat32(n: number): number {
  for (let digits = 1; digits < 17; digits++) {
    const candidate = Number(n.toPrecision(digits));
    if (Math.fround(candidate) === n) return candidate;
  }
  return n;
}

const _B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function _base64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += _B64[n >> 18] + _B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? _B64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? _B64[n & 63] : "=";
  }
  return out;
}

function _readBase64(text: string, path: string): Uint8Array {
  // Standard or URL-safe alphabet, padded or not: the mapping accepts all four.
  const body = text.replace(/={1,2}$/, "");
  if (!/^[A-Za-z0-9+/_-]*$/.test(body) || body.length % 4 === 1) {
    _fail(path, `expected base64, got ${describeJson(text)}`);
  }
  const out = new Uint8Array(Math.floor(body.length * 3 / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const c of body) {
    const v = c === "-" ? 62 : c === "_" ? 63 : _B64.indexOf(c);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

function _fail(path: string, reason: string): never {
  throw new JsonMappingError(path, reason);
}
