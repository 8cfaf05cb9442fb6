/**
 * Per-message-type encode and decode functions, compiled once at load time.
 * They sit on the per-call hot path: beyond the message itself they allocate
 * nothing unless something is wrong.
 * @module
 */
import protobuf from "protobufjs";
import { decodeFixup, encodeFixup } from "./map_keys.ts";
import { createShapeChecker } from "./shape_check.ts";

/** Encode and decode for one message type. */
export interface MessageCodec {
  /** Bytes to a plain object (see `MethodDescriptor.decodeRequest`). */
  decode(bytes: Uint8Array): unknown;
  /** Strict shape check, then bytes; throws MessageShapeError. */
  encode(value: unknown): Uint8Array;
}

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
 * Returns a function giving the codec of a message type, built on first
 * request and shared afterwards.
 *
 * @example
 * ```ts
 * const codecFor = createCodecs();
 * const codec = codecFor(root.lookupType("helloworld.HelloReply"));
 * codec.decode(codec.encode({ message: "hi" })); // { message: "hi" }
 * ```
 */
export function createCodecs(): (type: protobuf.Type) => MessageCodec {
  const codecs = new Map<protobuf.Type, MessageCodec>();
  const compileShapeCheck = createShapeChecker();
  return function codecFor(type) {
    let codec = codecs.get(type);
    if (!codec) {
      codec = _compile(type, compileShapeCheck(type));
      codecs.set(type, codec);
    }
    return codec;
  };
}

function _compile(type: protobuf.Type, check: (value: unknown) => void): MessageCodec {
  _setupReachable(type);
  const afterDecode = decodeFixup(type);
  const beforeEncode = encodeFixup(type);
  const options = TO_OBJECT_OPTIONS;
  const decode = afterDecode
    ? function decodeMessage(bytes: Uint8Array): unknown {
      const object = type.toObject(type.decode(bytes), options);
      afterDecode(object);
      return object;
    }
    : function decodeMessage(bytes: Uint8Array): unknown {
      return type.toObject(type.decode(bytes), options);
    };
  const encode = beforeEncode
    ? function encodeMessage(value: unknown): Uint8Array {
      check(value);
      const message = type.fromObject(value as Record<string, unknown>);
      beforeEncode(message as unknown as Record<string, unknown>);
      return type.encode(message).finish();
    }
    : function encodeMessage(value: unknown): Uint8Array {
      check(value);
      return type.encode(type.fromObject(value as Record<string, unknown>)).finish();
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
