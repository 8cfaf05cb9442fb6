/**
 * A parsed canonical JSON value read into the plain object protobufjs's
 * `fromObject` takes, checking every field against the message type so a
 * wrong value is refused with its path rather than coerced.
 * @module
 */
import protobuf from "protobufjs";
import { describeJson, fieldPath, indexPath, JsonMappingError, keyPath } from "./json_error.ts";
import { inputFieldNames } from "./json_names.ts";
import type { JsonValue } from "./json_parse.ts";
import { isDefaultScalar, tracksPresence } from "./json_presence.ts";
import { readEnum, readMapKey, readScalar, SKIP } from "./json_scalars.ts";
import { isSpecialWkt, readWkt, type WktReadContext } from "./json_wkt.ts";

type _Object = Record<string, unknown>;

/** How a message of `type` becomes bytes (for an Any's payload). */
export type EncodeMessage = (type: protobuf.Type, object: _Object) => Uint8Array;

/**
 * `json` as a `fromObject` input for `type`. Throws JsonMappingError naming
 * the field path on an unknown field (unless `ignoreUnknownFields`), a
 * field given twice (by both its names), two members of one oneof, or a
 * value of the wrong type.
 *
 * @example
 * ```ts
 * const object = readMessage(type, parseJson('{"foo_bar": "12"}', 100), false, encode);
 * type.fromObject(object);
 * ```
 */
export function readMessage(
  type: protobuf.Type,
  json: JsonValue,
  ignoreUnknownFields: boolean,
  encode: EncodeMessage,
): _Object {
  return new _Reader(ignoreUnknownFields, encode).message(type, json, "");
}

class _Reader implements WktReadContext {
  constructor(readonly ignoreUnknown: boolean, readonly encode: EncodeMessage) {}

  message(type: protobuf.Type, json: JsonValue, path: string): _Object {
    if (isSpecialWkt(type)) return readWkt(type, json, path, this);
    if (!(json instanceof Map)) _fail(path, `expected an object, got ${describeJson(json)}`);
    const names = inputFieldNames(type);
    const out: _Object = {};
    const seen = new Map<protobuf.Field, string>();
    const oneofs = new Map<protobuf.OneOf, string>();
    for (const [key, value] of json) {
      const at = fieldPath(path, key);
      const field = names.get(key);
      if (!field) {
        if (this.ignoreUnknown) continue;
        _fail(at, `unknown field of ${type.fullName.slice(1)}`);
      }
      if (seen.has(field)) _fail(at, `field given twice (also as "${seen.get(field)}")`);
      seen.set(field, key);
      field.resolve();
      if (value === null && !_takesNull(field)) continue;
      const oneof = field.partOf;
      if (oneof) {
        if (oneofs.has(oneof)) {
          _fail(at, `oneof "${oneof.name}" is already set by "${oneofs.get(oneof)}"`);
        }
        oneofs.set(oneof, key);
      }
      const read = field.map
        ? this.map(field, value, at)
        : field.repeated
        ? this.list(field, value, at)
        : this.value(field, value, at);
      if (read === SKIP) continue;
      if (
        !field.map && !field.repeated && !tracksPresence(field) && isDefaultScalar(field.type, read)
      ) {
        // Implicit presence: a default is the same as unset, so it is not encoded.
        continue;
      }
      out[field.name] = read;
    }
    return out;
  }

  map(field: protobuf.Field, json: JsonValue, path: string): _Object {
    if (!(json instanceof Map)) _fail(path, `expected an object, got ${describeJson(json)}`);
    const out: _Object = {};
    for (const [key, value] of json) {
      const at = keyPath(path, key);
      const read = this.value(field, value, at);
      if (read !== SKIP) out[readMapKey(_keyType(field), key, at)] = read;
    }
    return out;
  }

  list(field: protobuf.Field, json: JsonValue, path: string): unknown[] {
    if (!Array.isArray(json)) _fail(path, `expected an array, got ${describeJson(json)}`);
    const out: unknown[] = [];
    json.forEach((item, i) => {
      const read = this.value(field, item, indexPath(path, i));
      if (read !== SKIP) out.push(read);
    });
    return out;
  }

  value(field: protobuf.Field, json: JsonValue, path: string): unknown {
    const resolved = field.resolvedType;
    if (json === null && !_takesNull(field)) _fail(path, "null is not allowed here");
    if (resolved instanceof protobuf.Enum) {
      return readEnum(resolved, json, path, this.ignoreUnknown);
    }
    if (resolved instanceof protobuf.Type) return this.message(resolved, json, path);
    return readScalar(field.type, json, path);
  }
}

/** google.protobuf.Value and NullValue read `null` as a value, not as "unset". */
function _takesNull(field: protobuf.Field): boolean {
  const name = field.resolvedType?.fullName;
  return name === ".google.protobuf.Value" || name === ".google.protobuf.NullValue";
}

function _fail(path: string, reason: string): never {
  throw new JsonMappingError(path, reason);
}

/** A map field's key type (protobufjs's typings do not make MapField a Field). */
function _keyType(field: protobuf.Field): string {
  return (field as unknown as protobuf.MapField).keyType;
}
