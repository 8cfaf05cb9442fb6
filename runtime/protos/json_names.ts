/**
 * Field names in canonical JSON: the lowerCamel `json_name` written on
 * output, and every name accepted on input.
 *
 * The runtime parses protos with `keepCase: false`, so a protobufjs field
 * name is protobufjs's camelCase of the name written in the .proto (only
 * `_` + lowercase letter is folded) and the written name itself is gone.
 * protoc's json_name folds every `_`, and folding is idempotent on what
 * protobufjs kept, so it can be recomputed exactly. The written name is
 * recovered as the snake_case spelling (exact for style-guide names) and the
 * protobufjs name (exact for names without `_` + lowercase letter).
 * @module
 */
import type protobuf from "protobufjs";

/**
 * The name a field is written under in JSON output: its `json_name` option,
 * else protoc's lowerCamel of its name.
 *
 * @example
 * ```ts
 * jsonNameOf(type.fields.field_1); // "field1"
 * ```
 */
export function jsonNameOf(field: protobuf.Field): string {
  let name = _jsonNames.get(field);
  if (name === undefined) {
    const option = field.options?.["json_name"];
    name = typeof option === "string" ? option : toJsonName(field.name);
    // Written for every field of every message sent: worth remembering.
    _jsonNames.set(field, name);
  }
  return name;
}

const _jsonNames = new WeakMap<protobuf.Field, string>();

/**
 * protoc's `ToJsonName`: drops each `_` and upper-cases the letter after it.
 *
 * @example
 * ```ts
 * toJsonName("foo_bar_1"); // "fooBar1"
 * ```
 */
export function toJsonName(name: string): string {
  return name.replace(/_+(.?)/g, (_m, c: string) => c.toUpperCase());
}

const _inputNames = new WeakMap<protobuf.Type, ReadonlyMap<string, protobuf.Field>>();

/**
 * The fields of `type` by every name JSON input may use for them: the JSON
 * name, the protobufjs name and the snake_case spelling. When two fields
 * claim a name, the JSON and protobufjs names win over a snake_case guess.
 *
 * @example
 * ```ts
 * inputFieldNames(type).get("foo_bar") === inputFieldNames(type).get("fooBar");
 * ```
 */
export function inputFieldNames(type: protobuf.Type): ReadonlyMap<string, protobuf.Field> {
  let names = _inputNames.get(type);
  if (names) return names;
  const map = new Map<string, protobuf.Field>();
  for (const field of type.fieldsArray) map.set(jsonNameOf(field), field);
  for (const field of type.fieldsArray) if (!map.has(field.name)) map.set(field.name, field);
  for (const field of type.fieldsArray) {
    const snake = _snakeCase(field.name);
    if (!map.has(snake)) map.set(snake, field);
  }
  names = map;
  _inputNames.set(type, names);
  return names;
}

function _snakeCase(name: string): string {
  return name.charAt(0) + name.slice(1).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
