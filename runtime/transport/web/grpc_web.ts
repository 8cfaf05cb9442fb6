/**
 * gRPC-Web trailers (PROTOCOL-WEB.md "Message framing"): browsers cannot
 * read HTTP trailers, so the status and trailing metadata travel as the last
 * message of the body, flagged 0x80, holding an HTTP/1-style header block
 * (`name: value\r\n` lines, lower-case names, no terminating empty line).
 * Values follow gRPC's own rules: `grpc-message` percent-encoded, `-bin`
 * values base64 (grpc_wire.ts).
 * @module
 */
import { Metadata } from "../../core/metadata.ts";
import type { Status } from "../../core/errors.ts";
import type { CallStatus } from "../types.ts";
import type { HeaderField } from "../native/hpack/mod.ts";
import { appendMetadata, encodeStatusMessage, fromLatin1 } from "../native/grpc_wire.ts";
import { decodeBase64 } from "../native/base64.ts";
import { FLAG_TRAILERS, writeEnvelopePrefix } from "./envelope.ts";
import { PREFIX_BYTES } from "../native/call_requests.ts";

/**
 * The trailers message that ends a gRPC-Web response: envelope prefix
 * (flags 0x80) and header block. Trailing metadata with reserved names
 * (grpc-status, content-type, ...) is left out, as on HTTP/2; so is a value
 * holding CR, LF or NUL, which would split the block into forged lines.
 *
 * @example
 * ```ts
 * const frame = encodeGrpcWebTrailers({ code: Status.OK, message: "", trailers: null });
 * // 0x80 0 0 0 15 "grpc-status: 0\r\n"
 * ```
 */
export function encodeGrpcWebTrailers(status: CallStatus): Uint8Array {
  const fields: HeaderField[] = [["grpc-status", String(status.code)]];
  if (status.message) fields.push(["grpc-message", encodeStatusMessage(status.message)]);
  if (status.trailers) appendMetadata(fields, status.trailers);
  let length = 0;
  for (const [name, value] of fields) {
    if (safeValue(value)) length += name.length + 2 + value.length + 2;
  }
  const frame = new Uint8Array(PREFIX_BYTES + length);
  writeEnvelopePrefix(frame, 0, FLAG_TRAILERS, length);
  let at = PREFIX_BYTES;
  for (const [name, value] of fields) {
    if (!safeValue(value)) continue;
    at = writeLatin1(frame, at, name);
    frame[at++] = 0x3a; // ":"
    frame[at++] = 0x20;
    at = writeLatin1(frame, at, value);
    frame[at++] = 0x0d;
    frame[at++] = 0x0a;
  }
  return frame;
}

/** What a gRPC-Web trailers block says. */
export interface GrpcWebTrailers {
  readonly code: Status;
  /** `grpc-message`, percent-decoded. */
  readonly message: string;
  /** The other trailers; `-bin` values decoded. */
  readonly metadata: Metadata;
}

/**
 * Reads a trailers block (the message of a 0x80 envelope). Names are
 * lower-cased and values trimmed, as HTTP/1 header parsing does; a missing
 * or malformed grpc-status reads as UNKNOWN (2), as gRPC clients do.
 *
 * @example
 * ```ts
 * const t = parseGrpcWebTrailers(new TextEncoder().encode("grpc-status: 5\r\ngrpc-message: no%20user\r\n"));
 * t.code; // 5
 * t.message; // "no user"
 * ```
 */
export function parseGrpcWebTrailers(block: Uint8Array): GrpcWebTrailers {
  let text = "";
  for (let i = 0; i < block.length; i++) text += String.fromCharCode(block[i]);
  const metadata = new Metadata();
  let code = 2 as Status;
  let message = "";
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "grpc-status") {
      code = /^\d{1,2}$/.test(value) && Number(value) <= 16 ? Number(value) as Status : 2;
    } else if (name === "grpc-message") {
      message = decodeStatusMessage(value);
    } else if (name.endsWith("-bin")) {
      for (const part of value.split(",")) metadata.add(name, decodeBase64(part.trim()));
    } else metadata.add(name, fromLatin1(value));
  }
  return { code, message, metadata };
}

/**
 * Undoes `grpc-message` percent-encoding; a malformed escape is kept as
 * text, as PROTOCOL-HTTP2.md asks ("should not error").
 */
function decodeStatusMessage(value: string): string {
  if (value.indexOf("%") < 0) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const hex = c === 0x25 ? value.slice(i + 1, i + 3) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function safeValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

/** Writes a header string (one char per byte, grpc_wire.ts's form) into `target`. */
function writeLatin1(target: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) target[at++] = text.charCodeAt(i);
  return at;
}
