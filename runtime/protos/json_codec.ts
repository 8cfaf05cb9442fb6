/**
 * Protobuf's canonical JSON mapping (https://protobuf.dev/programming-guides/json/)
 * at the edge of the call pipeline: a Connect `application/json` body is
 * turned into protobuf binary on the way in and back on the way out, so
 * everything between stays binary.
 * @module
 */
import protobuf from "protobufjs";
import { JsonMappingError } from "./json_error.ts";
import { parseJson } from "./json_parse.ts";
import { readMessage } from "./json_read.ts";
import { WRITE_TO_OBJECT, writeMessage } from "./json_write.ts";
import { encodeFixup } from "./map_keys.ts";
import { strictReader } from "./strict_reader.ts";

export { JsonMappingError } from "./json_error.ts";

/** Options of {@link jsonToBinary}. */
export interface JsonToBinaryOptions {
  /** Skip fields (and enum names) the type does not know instead of refusing them. Default false. */
  ignoreUnknownFields?: boolean;
  /** Deepest nesting of JSON objects and arrays accepted. Default 100, as protobuf's own parsers. */
  maxDepth?: number;
}

/** Options of {@link binaryToJson}. */
export interface BinaryToJsonOptions {
  /** Deepest message nesting written. Default 100. */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 100;

/**
 * Canonical JSON text → protobuf binary for `type` (a protobufjs Type from
 * the runtime's loaded root). Field names may be the JSON (lowerCamel) or
 * the proto names. Throws JsonMappingError whose message names the field
 * path, e.g. `features[2].location.latitude: expected a number, got "north"`.
 *
 * @example
 * ```ts
 * const type = protos.root.lookupType("routeguide.Point");
 * const bytes = jsonToBinary(type, '{"latitude": 409146138, "longitude": -746188906}');
 * ```
 */
export function jsonToBinary(
  type: protobuf.Type,
  json: string,
  options: JsonToBinaryOptions = {},
): Uint8Array {
  const parsed = parseJson(json, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  return _encode(type, readMessage(type, parsed, options.ignoreUnknownFields ?? false, _encode));
}

/**
 * Protobuf binary → canonical JSON text. Throws JsonMappingError on bytes
 * that do not decode as `type`, or a value JSON cannot hold (a Timestamp
 * outside years 1 to 9999, an Any whose type is not loaded).
 *
 * @example
 * ```ts
 * const type = protos.root.lookupType("routeguide.Point");
 * binaryToJson(type, bytes); // '{"latitude":409146138,"longitude":-746188906}'
 * ```
 */
export function binaryToJson(
  type: protobuf.Type,
  bytes: Uint8Array,
  options: BinaryToJsonOptions = {},
): string {
  let object: Record<string, unknown>;
  try {
    object = type.toObject(type.decode(strictReader(bytes)), WRITE_TO_OBJECT);
  } catch (error) {
    throw new JsonMappingError("", `cannot decode ${type.fullName.slice(1)}: ${error}`);
  }
  return JSON.stringify(writeMessage(type, object, options.maxDepth ?? DEFAULT_MAX_DEPTH));
}

const _fixups = new WeakMap<protobuf.Type, ReturnType<typeof encodeFixup>>();

function _encode(type: protobuf.Type, object: Record<string, unknown>): Uint8Array {
  const message = type.fromObject(object);
  // Finding the fixup walks every type `type` reaches: once per type, not per call.
  let fixup = _fixups.get(type);
  if (fixup === undefined) _fixups.set(type, fixup = encodeFixup(type));
  fixup?.(message as unknown as Record<string, unknown>);
  return type.encode(message, new protobuf.Writer()).finish();
}
