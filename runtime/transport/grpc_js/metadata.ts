import { Metadata as GrpcMetadata } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { Metadata } from "../../core/metadata.ts";

/** grpc-js metadata → ours. grpc-js has already removed reserved headers. */
export function fromGrpcMetadata(md: GrpcMetadata): Metadata {
  const out = new Metadata();
  const map = md.toJSON() as Record<string, (string | Buffer)[]>;
  for (const key in map) {
    for (const value of map[key]) out.add(key, value);
  }
  return out;
}

/** Ours → grpc-js. Text keys get strings, `-bin` keys get Buffers. */
export function toGrpcMetadata(md: Metadata): GrpcMetadata {
  const out = new GrpcMetadata();
  for (const [key, values] of md.entries()) {
    const binary = key.endsWith("-bin");
    for (const value of values) {
      if (binary) {
        out.add(key, typeof value === "string" ? Buffer.from(value) : toBuffer(value));
      } else {
        out.add(key, typeof value === "string" ? value : new TextDecoder().decode(value));
      }
    }
  }
  return out;
}

/** Wraps bytes in a Buffer without copying (grpc-js calls Buffer methods on them). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
