/**
 * Message compression (grpc-encoding): identity, gzip and deflate, as
 * grpc-js accepts. Synchronous: messages are bounded by the size limits.
 * @module
 */
import process from "node:process";

type Zlib = typeof import("node:zlib");
let _zlib: Zlib | null = null;

// node:zlib takes 10-20 ms of a cold start to load in Deno, and most
// services never see a compressed message: load it on the first one. The
// calls here are synchronous, hence getBuiltinModule() rather than import().
function zlib(): Zlib {
  return _zlib ??= process.getBuiltinModule("node:zlib") as Zlib;
}

/** The encodings the native transport reads. */
export type Encoding = "identity" | "gzip" | "deflate";

/** What `grpc-accept-encoding` advertises. */
export const ACCEPTED_ENCODINGS = "identity,deflate,gzip";

/** The encoding named by a `grpc-encoding` header, or null if unsupported. */
export function parseEncoding(value: string | undefined): Encoding | null {
  if (value === undefined || value === "identity") return "identity";
  if (value === "gzip" || value === "deflate") return value;
  return null;
}

/**
 * Decompresses one message. Throws RangeError when the result would exceed
 * `maxBytes` (checked while inflating, so a zip bomb costs no memory).
 */
export function decompress(encoding: Encoding, bytes: Uint8Array, maxBytes: number): Uint8Array {
  const options = { maxOutputLength: maxBytes };
  const out = encoding === "gzip"
    ? zlib().gunzipSync(bytes, options)
    : zlib().inflateSync(bytes, options);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Compresses one message. */
export function compress(encoding: Encoding, bytes: Uint8Array): Uint8Array {
  const out = encoding === "gzip" ? zlib().gzipSync(bytes) : zlib().deflateSync(bytes);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
