/**
 * gRPC-over-HTTP/2 header conventions (PROTOCOL-HTTP2.md): timeouts,
 * status messages, metadata and `-bin` values.
 * @module
 */
import { decodeBase64, encodeBase64 } from "./base64.ts";
import type { HeaderField } from "./hpack/mod.ts";
import { Metadata } from "../../core/metadata.ts";

const TIMEOUT_UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/** `grpc-timeout` in ms, or null when malformed (1–8 digits and a unit). */
export function parseTimeout(value: string): number | null {
  const n = value.length - 1;
  if (n < 1 || n > 8) return null;
  const unit = TIMEOUT_UNIT_MS[value[n]];
  if (unit === undefined) return null;
  let amount = 0;
  for (let i = 0; i < n; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return null;
    amount = amount * 10 + digit;
  }
  return amount * unit;
}

// Headers the transport consumes itself; grpc-js drops the same ones.
const RESERVED_REQUEST_HEADERS = new Set([
  "content-type",
  "te",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "accept-encoding",
]);

// Keys a handler may not set: they would contradict what the transport sends.
const RESERVED_RESPONSE_HEADERS = new Set([
  "content-type",
  "grpc-status",
  "grpc-message",
  "grpc-encoding",
  "grpc-accept-encoding",
  "te",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "proxy-connection",
]);

/** Request metadata from decoded header fields (pseudo-headers and reserved keys skipped). */
export function metadataFromFields(fields: readonly HeaderField[]): Metadata {
  const md = new Metadata();
  for (const [name, value] of fields) {
    if (name.charCodeAt(0) === 58 /* ":" */ || RESERVED_REQUEST_HEADERS.has(name)) continue;
    if (name.endsWith("-bin")) {
      // Several values may arrive in one field, comma-separated.
      for (const part of value.split(",")) md.add(name, decodeBase64(part.trim()));
    } else md.add(name, fromLatin1(value));
  }
  return md;
}

/** Appends `md` to `fields` as header fields; `-bin` values base64 without padding. */
export function appendMetadata(fields: HeaderField[], md: Metadata): void {
  for (const [key, values] of md.entries()) {
    if (key.charCodeAt(0) === 58 || RESERVED_RESPONSE_HEADERS.has(key)) continue;
    const binary = key.endsWith("-bin");
    for (const value of values) {
      if (binary) {
        const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
        fields.push([key, encodeBase64(bytes)]);
      } else {
        fields.push([key, toLatin1(typeof value === "string" ? value : textOf(value))]);
      }
    }
  }
}

/**
 * `grpc-message` is percent-encoded: bytes outside printable ASCII, and
 * `%`, become `%XX` of their UTF-8 encoding.
 */
export function encodeStatusMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = "";
  for (const byte of new TextEncoder().encode(message)) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25
      ? "%" + byte.toString(16).toUpperCase().padStart(2, "0")
      : String.fromCharCode(byte);
  }
  return out;
}

/** A header value (one char per byte) as text: UTF-8 when it has bytes above 0x7f. */
export function fromLatin1(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) {
      const bytes = new Uint8Array(value.length);
      for (let j = 0; j < value.length; j++) bytes[j] = value.charCodeAt(j);
      return new TextDecoder().decode(bytes);
    }
  }
  return value;
}

/** Text as a header value: its UTF-8 bytes, one char per byte. */
function toLatin1(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) {
      let out = "";
      for (const byte of new TextEncoder().encode(value)) out += String.fromCharCode(byte);
      return out;
    }
  }
  return value;
}

function textOf(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
