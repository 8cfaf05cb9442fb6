/**
 * Base64 for `-bin` metadata: gRPC peers send it padded or unpadded, and
 * expect unpadded (PROTOCOL-HTTP2.md).
 * @module
 */
import { Buffer } from "node:buffer";

/** Decodes padded or unpadded base64; invalid characters are skipped, as Node does. */
export function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** Encodes without padding. */
export function encodeBase64(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* "=" */) end--;
  return text.slice(0, end);
}
