/**
 * A decoded message (protobufjs `toObject` output) written as a canonical
 * JSON value: lowerCamel names, implicit-presence defaults left out, 64-bit
 * integers as strings, enums by name, bytes as base64, well-known types in
 * their own forms.
 * @module
 */
import protobuf from "protobufjs";
import { fieldPath, indexPath, JsonMappingError, keyPath } from "./json_error.ts";
import { jsonNameOf } from "./json_names.ts";
import { isDefaultScalar, tracksPresence } from "./json_presence.ts";
import { writeEnum, writeScalar } from "./json_scalars.ts";
import { isSpecialWkt, type WktWriteContext, writeWkt } from "./json_wkt.ts";

type _Object = Record<string, unknown>;

/** How every message is turned into a plain object before it is written. */
export const WRITE_TO_OBJECT: protobuf.IConversionOptions = Object.freeze({
  longs: String,
  enums: Number,
});

const _LONG_KEYS = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);

/**
 * `object` (a message of `type` through `toObject` with
 * {@link WRITE_TO_OBJECT}) as a JSON value ready for `JSON.stringify`.
 * Throws JsonMappingError for a value JSON cannot hold (an out-of-range
 * Timestamp, an unresolvable Any) or nesting deeper than `maxDepth`.
 *
 * @example
 * ```ts
 * const object = type.toObject(type.decode(bytes), WRITE_TO_OBJECT);
 * JSON.stringify(writeMessage(type, object, 100)); // '{"fooBar":"12"}'
 * ```
 */
export function writeMessage(type: protobuf.Type, object: _Object, maxDepth: number): unknown {
  const writer = new _Writer(maxDepth);
  return writer.message(type, object, "");
}

class _Writer implements WktWriteContext {
  depth = 0;
  constructor(readonly maxDepth: number) {}

  message(type: protobuf.Type, object: _Object, path: string): unknown {
    if (++this.depth > this.maxDepth) {
      throw new JsonMappingError(path, `nested deeper than ${this.maxDepth} messages`);
    }
    try {
      if (isSpecialWkt(type)) return writeWkt(type, object, path, this);
      const out: _Object = {};
      for (const field of type.fieldsArray) {
        const value = object[field.name];
        if (value === undefined || value === null) continue;
        const name = jsonNameOf(field);
        const at = fieldPath(path, name);
        if (field.map) {
          const map = this.map(field, value as _Object, at);
          if (map) out[name] = map;
        } else if (field.repeated) {
          const list = value as unknown[];
          if (list.length) out[name] = list.map((v, i) => this.value(field, v, indexPath(at, i)));
        } else if (tracksPresence(field) || !isDefaultScalar(field.type, value)) {
          out[name] = this.value(field, value, at);
        }
      }
      return out;
    } finally {
      this.depth--;
    }
  }

  decode(type: protobuf.Type, bytes: Uint8Array, path: string): _Object {
    try {
      return type.toObject(type.decode(bytes), WRITE_TO_OBJECT);
    } catch (error) {
      throw new JsonMappingError(path, `cannot decode ${type.fullName.slice(1)}: ${error}`);
    }
  }

  map(field: protobuf.Field, map: _Object, path: string): _Object | null {
    const keys = Object.keys(map);
    if (!keys.length) return null;
    const out: _Object = {};
    const longKeys = _LONG_KEYS.has(_keyType(field));
    const unsigned = _keyType(field) === "uint64" || _keyType(field) === "fixed64";
    for (const key of keys) {
      // protobufjs keys 64-bit maps by an 8-character hash of the number.
      const text = longKeys && key.length === 8
        ? String(protobuf.util.longFromHash(key, unsigned))
        : key;
      out[text] = this.value(field, map[key], keyPath(path, text));
    }
    return out;
  }

  value(field: protobuf.Field, value: unknown, path: string): unknown {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Enum) return writeEnum(resolved, value as number);
    if (resolved instanceof protobuf.Type) return this.message(resolved, value as _Object, path);
    return writeScalar(field.type, value);
  }
}

/** A map field's key type (protobufjs's typings do not make MapField a Field). */
function _keyType(field: protobuf.Field): string {
  return (field as unknown as protobuf.MapField).keyType;
}
