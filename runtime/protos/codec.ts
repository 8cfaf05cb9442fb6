/**
 * Per-message-type encode and decode functions, compiled once, on first use.
 * They sit on the per-call hot path: beyond the message itself they allocate
 * nothing unless something is wrong.
 * @module
 */
import protobuf from "protobufjs";
import { Buffer } from "node:buffer";
import { decodeFixup, encodeFixup } from "./map_keys.ts";
import { createShapeChecker } from "./shape_check.ts";
import { strictReader } from "./strict_reader.ts";
import { decodeBudget, SCAN_FROM_BYTES } from "./decode_cost.ts";

// toObject({ defaults: true }) first gives every bytes field its default, an
// empty Buffer made from an empty array (Buffer.from([]) takes Node's
// array-like path), and then the decoded value if the field is set: about 8 %
// of a bidi round trip of a one-bytes-field message went there. One shared,
// frozen, zero-length Buffer stands for every empty default; nothing can be
// written into it. Non-empty defaults (proto2 `[default = ...]`) are built
// as before.
const EMPTY_BYTES = Object.freeze(Buffer.alloc(0));
const util = protobuf.util as unknown as {
  _Buffer_from: ((value: unknown, encoding?: string) => Uint8Array) | null;
};
const bufferFrom = util._Buffer_from;
if (bufferFrom) {
  util._Buffer_from = (value, encoding) =>
    Array.isArray(value) && value.length === 0 ? EMPTY_BYTES : bufferFrom(value, encoding);
}

/** What one message may cost decoded, unless the config says otherwise (64 MiB). */
export const DEFAULT_MAX_DECODED_BYTES = 64 * 2 ** 20;

/** Encode and decode for one message type. */
export interface MessageCodec {
  /** Bytes to a plain object (see `MethodDescriptor.decodeRequest`). */
  decode(bytes: Uint8Array, charge?: DecodeCharge): unknown;
  /** Strict shape check, then bytes; throws MessageShapeError. */
  encode(value: unknown): Uint8Array;
}

/**
 * Told a large message's estimated decoded size before it is decoded; may
 * throw to refuse it (the process's memory budget is full).
 */
export type DecodeCharge = (estimate: number) => void;

/** The `toObject` options every decoded message is converted with. */
export const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = Object.freeze({
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
});

/**
 * Returns a function giving the codec of a message type, shared by every
 * method that uses the type. protobufjs generates its code on the first
 * encode or decode, not here: a process loads codecs for every method of
 * its protos, the built-ins' included, and most are rarely or never called,
 * so compiling them all would cost cold start tens of milliseconds.
 *
 * @example
 * ```ts
 * const codecFor = createCodecs();
 * const codec = codecFor(root.lookupType("helloworld.HelloReply"));
 * codec.decode(codec.encode({ message: "hi" })); // { message: "hi" }
 * ```
 */
export function createCodecs(
  maxDecodedBytes: number = DEFAULT_MAX_DECODED_BYTES,
): (type: protobuf.Type) => MessageCodec {
  const codecs = new Map<protobuf.Type, MessageCodec>();
  const compileShapeCheck = createShapeChecker();
  return function codecFor(type) {
    let codec = codecs.get(type);
    if (!codec) {
      codec = _lazy(() => _compile(type, compileShapeCheck(type), maxDecodedBytes));
      codecs.set(type, codec);
    }
    return codec;
  };
}

/** A codec that compiles on first use; afterwards one call of indirection. */
function _lazy(compile: () => MessageCodec): MessageCodec {
  let compiled: MessageCodec | null = null;
  return {
    decode: (bytes, charge) => (compiled ??= compile()).decode(bytes, charge),
    encode: (value) => (compiled ??= compile()).encode(value),
  };
}

function _compile(
  type: protobuf.Type,
  check: (value: unknown) => void,
  maxDecodedBytes: number,
): MessageCodec {
  _setupReachable(type);
  const afterDecode = decodeFixup(type);
  const beforeEncode = encodeFixup(type);
  const options = TO_OBJECT_OPTIONS;
  const budget = decodeBudget(type, maxDecodedBytes);
  const scan = (bytes: Uint8Array, charge: DecodeCharge | undefined) => {
    const estimate = budget(bytes);
    if (charge) charge(estimate);
  };
  const decode = afterDecode
    ? function decodeMessage(bytes: Uint8Array, charge?: DecodeCharge): unknown {
      if (bytes.length >= SCAN_FROM_BYTES) scan(bytes, charge);
      const object = type.toObject(type.decode(strictReader(bytes)), options);
      afterDecode(object);
      return object;
    }
    : function decodeMessage(bytes: Uint8Array, charge?: DecodeCharge): unknown {
      if (bytes.length >= SCAN_FROM_BYTES) scan(bytes, charge);
      return type.toObject(type.decode(strictReader(bytes)), options);
    };
  const encode = beforeEncode
    ? function encodeMessage(value: unknown): Uint8Array {
      check(value);
      const message = type.fromObject(value as Record<string, unknown>);
      beforeEncode(message as unknown as Record<string, unknown>);
      return type.encode(message, new protobuf.Writer()).finish();
    }
    : function encodeMessage(value: unknown): Uint8Array {
      check(value);
      // A plain Writer, not the Buffer one protobufjs picks under Node
      // compatibility: Deno's Buffer pool costs more than the Uint8Array slab.
      return type.encode(type.fromObject(value as Record<string, unknown>), new protobuf.Writer())
        .finish();
    };
  return { decode, encode };
}

/** Generates protobufjs's code for `type` and every type it reaches, now rather than mid-call. */
function _setupReachable(root: protobuf.Type): void {
  const seen = new Set<protobuf.Type>();
  const stack = [root];
  while (stack.length) {
    const type = stack.pop()!;
    if (seen.has(type)) continue;
    seen.add(type);
    type.setup();
    for (const field of type.fieldsArray) {
      const target = field.resolve().resolvedType;
      if (target instanceof protobuf.Type) stack.push(target);
    }
  }
}
