/**
 * A Connect unary GET's query (connectrpc.com/docs/protocol
 * "Unary-Get-Request"): `message` (percent-encoded UTF-8, or URL-safe
 * base64 with `base64=1`), `encoding`, `compression` and `connect`, in any
 * order, unknown parameters allowed. The message's size is checked from
 * the raw parameter before it is decoded, so an oversized URL costs no
 * decoding work.
 * @module
 */
import { Buffer } from "node:buffer";
import { Status } from "../../core/errors.ts";
import type { MessageCodec } from "./protocol.ts";

/** What a Connect GET asks for. */
export interface ConnectGetRequest {
  readonly codec: MessageCodec;
  /** The (possibly compressed) message; empty when the query has none. */
  readonly message: Uint8Array;
  /** `compression`, "identity" when absent; the caller checks it is supported. */
  readonly compression: string;
  /** `connect`, for checkConnectVersion(..., get = true); undefined when absent. */
  readonly connectVersion: string | undefined;
}

/** Why the query cannot be served, with the status the call ends with. */
export interface ConnectGetError {
  readonly code: Status;
  readonly message: string;
}

const BASE64_URL = /^[A-Za-z0-9_\-+/]*={0,2}$/;

/**
 * Decodes a GET query string (after `?`). A message larger than
 * `maxMessageBytes` once decoded is RESOURCE_EXHAUSTED; bad percent
 * escapes, invalid UTF-8 or base64, or an unknown `encoding` are
 * INVALID_ARGUMENT (protocol.ts has already answered 415 for an unknown
 * encoding; this is the same check for callers that skip it).
 *
 * @example
 * ```ts
 * // The spec's example.
 * const get = decodeConnectGetQuery(
 *   "message=%7B%22name%22%3A%22Buf%22%7D&encoding=json&connect=v1",
 *   4 << 20,
 * );
 * new TextDecoder().decode(get.message); // '{"name":"Buf"}'
 * ```
 */
export function decodeConnectGetQuery(
  query: string,
  maxMessageBytes: number,
): ConnectGetRequest | ConnectGetError {
  let message: string | undefined, encoding: string | undefined, base64: string | undefined;
  let compression: string | undefined, connect: string | undefined;
  for (let start = 0; start < query.length;) {
    let end = query.indexOf("&", start);
    if (end < 0) end = query.length;
    const equals = query.indexOf("=", start);
    const hasValue = equals >= 0 && equals < end;
    const name = query.slice(start, hasValue ? equals : end);
    const raw = hasValue ? query.slice(equals + 1, end) : "";
    // First occurrence wins, as URLSearchParams.get() does.
    if (name === "message") message ??= raw;
    else if (name === "encoding") encoding ??= raw;
    else if (name === "base64") base64 ??= raw;
    else if (name === "compression") compression ??= raw;
    else if (name === "connect") connect ??= raw;
    start = end + 1;
  }
  if (encoding !== "proto" && encoding !== "json") {
    return invalid(`Unsupported encoding ${JSON.stringify(encoding ?? "")}`);
  }
  // Spec: "Other values for the base64 parameter will simply be ignored."
  const isBase64 = base64 === "1";
  const raw = message ?? "";
  // A lower bound of the decoded size, from the raw text alone: base64 gives 3
  // bytes per 4 letters (less up to 6 chars of "%3D" padding), escapes 1 per 3 chars.
  const lowest = isBase64
    ? Math.floor(Math.max(0, raw.length - 6) * 3 / 4)
    : Math.ceil(raw.length / 3);
  if (lowest > maxMessageBytes) return tooLarge(`at least ${lowest}`, maxMessageBytes);
  const decoded = isBase64 ? decodeBase64Message(raw) : decodeTextMessage(raw);
  if (typeof decoded === "string") return invalid(decoded);
  if (decoded.length > maxMessageBytes) return tooLarge(decoded.length, maxMessageBytes);
  return {
    codec: encoding,
    message: decoded,
    compression: compression === undefined ? "identity" : percentDecode(compression) ?? "",
    connectVersion: connect === undefined ? undefined : percentDecode(connect) ?? "",
  };
}

function decodeBase64Message(raw: string): Uint8Array | string {
  // Padding, if any, must be percent-encoded (spec); "+" is kept, not read as a space.
  const text = raw.indexOf("%") < 0 ? raw : percentDecode(raw);
  if (text === undefined || !BASE64_URL.test(text) || text.replace(/=+$/, "").length % 4 === 1) {
    return "Invalid base64 in the message query parameter";
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}

function decodeTextMessage(raw: string): Uint8Array | string {
  // Spec: percent-encoding (RFC 1738) of UTF-8 text; "+" is a space, as in forms.
  const text = percentDecode(raw.replaceAll("+", " "));
  if (text === undefined) {
    return "Invalid percent-encoding or UTF-8 in the message query parameter " +
      "(binary messages need base64=1)";
  }
  return new TextEncoder().encode(text);
}

function percentDecode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function invalid(message: string): ConnectGetError {
  return { code: Status.INVALID_ARGUMENT, message };
}

function tooLarge(size: number | string, max: number): ConnectGetError {
  return {
    code: Status.RESOURCE_EXHAUSTED,
    message: `Received message larger than max (${size} vs ${max})`,
  };
}
