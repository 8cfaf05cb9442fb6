/**
 * Message compression (grpc-encoding): identity, gzip and deflate, as
 * grpc-js accepts. Synchronous: messages are bounded by the size limits.
 * @module
 */
import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";

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
  const out = encoding === "gzip" ? gunzipSync(bytes, options) : inflateSync(bytes, options);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Compresses one message. */
export function compress(encoding: Encoding, bytes: Uint8Array): Uint8Array {
  const out = encoding === "gzip" ? gzipSync(bytes) : deflateSync(bytes);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
