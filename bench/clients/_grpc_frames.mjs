// gRPC message framing for the raw node:http2 clients: a 5-byte prefix
// (compressed flag 0, 4-byte big-endian length) before each protobuf message.
import { Buffer } from "node:buffer";

/** `bench.Msg { payload }` as protobuf bytes, with a payload of `size` bytes. */
export function encodeMsg(size) {
  const payload = Buffer.alloc(size, 0x61);
  const len = [];
  let n = size;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x0a, ...len]), payload]);
}

/** One length-prefixed gRPC frame around `message`. */
export function frame(message) {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** Splits a growing byte stream into gRPC messages; `push` returns the complete ones. */
export function createDeframer() {
  let pending = Buffer.alloc(0);
  return function push(chunk) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    const messages = [];
    while (pending.length >= 5) {
      const len = pending.readUInt32BE(1);
      if (pending.length < 5 + len) break;
      messages.push(pending.subarray(5, 5 + len));
      pending = pending.subarray(5 + len);
    }
    return messages;
  };
}

/** The request headers every bench client sends. */
export function grpcHeaders(path) {
  return {
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    "x-api-key": "bench",
  };
}
