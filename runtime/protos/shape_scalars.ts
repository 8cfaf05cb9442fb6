/**
 * Checks for scalar, enum and map-key values a handler hands to the encoder.
 * Each check returns null when the value fits, else the reason text
 * (`expected string, got number`).
 * @module
 */
import protobuf from "protobufjs";

/** Returns null when `value` fits, else why not. */
export type ScalarCheck = (value: unknown) => string | null;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const SIGNED_DECIMAL = /^-?\d+$/;
const Long = protobuf.util.Long as unknown as { isLong(value: unknown): boolean } | undefined;

/** Names a value's type for error messages: `number`, `null`, `array`, `Date`, ... */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Uint8Array) return "Uint8Array";
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null
      ? "object"
      : proto?.constructor?.name ?? "object";
  }
  return typeof value;
}

/** True for `{}`-style objects (prototype Object.prototype or null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function _int32(value: unknown): string | null {
  if (typeof value === "number" && (value | 0) === value) return null;
  return _badInteger("int32", value);
}

function _uint32(value: unknown): string | null {
  if (typeof value === "number" && value >>> 0 === value) return null;
  return _badInteger("uint32", value);
}

function _badInteger(type: string, value: unknown): string {
  if (typeof value !== "number") return `expected ${type}, got ${describeValue(value)}`;
  if (!Number.isInteger(value)) return `expected ${type}, got ${value} (not an integer)`;
  return `expected ${type}, got ${value} (out of range)`;
}

function _int64(unsigned: boolean): ScalarCheck {
  const type = unsigned ? "uint64" : "int64";
  const min = unsigned ? 0n : INT64_MIN;
  const max = unsigned ? UINT64_MAX : INT64_MAX;
  const numberMin = Number(min);
  const numberLimit = Number(max) + 1; // 2^63 or 2^64: the first number out of range
  const hint = `expected ${type} (integer number, bigint or decimal string)`;
  return function checkInt64(value) {
    switch (typeof value) {
      case "number":
        if (!Number.isInteger(value)) return `${hint}, got ${value} (not an integer)`;
        if (value < numberMin || value >= numberLimit) {
          return `${hint}, got ${value} (out of range)`;
        }
        return null;
      case "bigint":
        return value < min || value > max ? `${hint}, got ${value}n (out of range)` : null;
      case "string":
        if (!SIGNED_DECIMAL.test(value)) return `${hint}, got "${_clip(value)}"`;
        if (value.length > 18) {
          const big = BigInt(value);
          if (big < min || big > max) return `${hint}, got "${_clip(value)}" (out of range)`;
        } else if (unsigned && value.startsWith("-") && value !== "-0") {
          return `${hint}, got "${value}" (out of range)`;
        }
        return null;
      default:
        if (Long?.isLong(value)) return null;
        return `${hint}, got ${describeValue(value)}`;
    }
  };
}

function _clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const SCALARS: Record<string, ScalarCheck> = {
  string: (v) => typeof v === "string" ? null : `expected string, got ${describeValue(v)}`,
  bool: (v) => typeof v === "boolean" ? null : `expected bool, got ${describeValue(v)}`,
  double: (v) => typeof v === "number" ? null : `expected double, got ${describeValue(v)}`,
  float: (v) => typeof v === "number" ? null : `expected float, got ${describeValue(v)}`,
  int32: _int32,
  sint32: _int32,
  sfixed32: _int32,
  uint32: _uint32,
  fixed32: _uint32,
  int64: _int64(false),
  sint64: _int64(false),
  sfixed64: _int64(false),
  uint64: _int64(true),
  fixed64: _int64(true),
  bytes: (v) => {
    if (v instanceof Uint8Array) return null;
    if (typeof v === "string" && BASE64.test(v)) return null;
    const got = typeof v === "string" ? "a string that is not base64" : describeValue(v);
    return `expected bytes (Uint8Array or base64 string), got ${got}`;
  },
};

/**
 * The check for proto scalar type `type` (`string`, `int64`, ...), or
 * undefined when `type` is not a scalar.
 *
 * @example
 * ```ts
 * scalarCheck("int32")!(1.5); // "expected int32, got 1.5 (not an integer)"
 * ```
 */
export function scalarCheck(type: string): ScalarCheck | undefined {
  return Object.hasOwn(SCALARS, type) ? SCALARS[type] : undefined;
}

/** The check for an enum: a value name, or any int32 number (proto3 enums are open). */
export function enumCheck(enumType: protobuf.Enum): ScalarCheck {
  const names = Object.keys(enumType.values);
  const list = names.length > 6
    ? `${names.slice(0, 6).map((n) => `"${n}"`).join(", ")}, ...`
    : names.map((n) => `"${n}"`).join(", ");
  const expected = `expected ${enumType.fullName.slice(1)} (one of ${list}, or a number)`;
  const values = enumType.values;
  return function checkEnum(value) {
    if (typeof value === "string") {
      return Object.hasOwn(values, value) ? null : `${expected}, got "${_clip(value)}"`;
    }
    if (typeof value === "number") {
      return (value | 0) === value ? null : `${expected}, got ${value}`;
    }
    return `${expected}, got ${describeValue(value)}`;
  };
}

/** The check for a map key (always a string in JS) of proto key type `keyType`. */
export function mapKeyCheck(keyType: string): ScalarCheck {
  switch (keyType) {
    case "string":
      return () => null;
    case "bool":
      return (k) => k === "true" || k === "false" ? null : `expected "true" or "false" as bool key`;
    case "int32":
    case "sint32":
    case "sfixed32":
    case "uint32":
    case "fixed32": {
      const check = SCALARS[keyType];
      return (k) =>
        typeof k === "string" && SIGNED_DECIMAL.test(k) && check(Number(k)) === null
          ? null
          : `expected ${keyType} key (a decimal integer in range)`;
    }
    default: {
      const check = SCALARS[keyType];
      return (k) =>
        check(k) === null ? null : `expected ${keyType} key (a decimal integer in range)`;
    }
  }
}
