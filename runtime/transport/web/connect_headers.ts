/**
 * Connect's headers (connectrpc.com/docs/protocol "Unary-Request",
 * "Unary-Response"): `connect-timeout-ms`, which request headers are the
 * handler's metadata, how unary responses carry trailers as `trailer-`
 * headers, and the EndStreamResponse's metadata object. `-bin` values are
 * base64 as in gRPC; keys beginning with `connect-` are the protocol's own.
 * @module
 */
import { Metadata } from "../../core/metadata.ts";
import type { HeaderField } from "../native/hpack/mod.ts";
import { appendMetadata, fromLatin1 } from "../native/grpc_wire.ts";
import { decodeBase64 } from "../native/base64.ts";
import { STATUS_DETAILS_KEY } from "./status_details.ts";

/**
 * `connect-timeout-ms` in ms, or null when malformed: 1 to 10 ASCII digits
 * (spec "Timeout-Milliseconds"), so at most 9,999,999,999 ms, about 115
 * days; the caller may clamp. "0" is accepted (an already-expired
 * deadline), as connect-go and connect-es do.
 *
 * @example
 * ```ts
 * parseConnectTimeout("5000"); // 5000
 * parseConnectTimeout("1h"); // null
 * ```
 */
export function parseConnectTimeout(value: string): number | null {
  if (value.length < 1 || value.length > 10) return null;
  let ms = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return null;
    ms = ms * 10 + digit;
  }
  return ms;
}

// Request headers that describe the HTTP exchange, not the call: the
// transport reads the ones it needs; handlers never see them.
const RESERVED_REQUEST_HEADERS = new Set([
  "accept",
  "accept-encoding",
  "connection",
  "content-encoding",
  "content-length",
  "content-type",
  "host",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * A Connect request's metadata from its header fields (latin1, lower-case
 * names, as the HTTP layers hand them over): pseudo-headers, `connect-*`
 * and HTTP-exchange headers (content-*, accept-encoding, host, hop-by-hop)
 * are left out; `-bin` values are base64-decoded (padded or not, and
 * comma-joined values split, as the spec asks).
 *
 * @example
 * ```ts
 * connectRequestMetadata([["content-type", "application/json"], ["acme-shard-id", "42"]])
 *   .toJSON(); // { "acme-shard-id": "42" }
 * ```
 */
export function connectRequestMetadata(fields: readonly HeaderField[]): Metadata {
  const md = new Metadata();
  for (const [name, value] of fields) {
    if (
      name.charCodeAt(0) === 58 /* ":" */ || name.startsWith("connect-") ||
      RESERVED_REQUEST_HEADERS.has(name)
    ) continue;
    if (name.endsWith("-bin")) {
      for (const part of value.split(",")) md.add(name, decodeBase64(part.trim()));
    } else md.add(name, fromLatin1(value));
  }
  return md;
}

/**
 * Appends a Connect unary response's metadata to `fields`: `headers` as
 * they are, then `trailers` with the `trailer-` prefix the spec puts on
 * them, since a unary response has no HTTP trailers ("Prefixed-Trailing-
 * Metadata"). Reserved keys (content-type, grpc-status, `connect-*`,
 * grpc-status-details-bin, whose details travel in the error body) are
 * left out; `-bin` values are unpadded base64.
 *
 * @example
 * ```ts
 * const fields: HeaderField[] = [["content-type", "application/json"]];
 * appendConnectUnaryMetadata(fields, null, Metadata.from({ "acme-operation-cost": "237" }));
 * // fields[1]: ["trailer-acme-operation-cost", "237"]
 * ```
 */
export function appendConnectUnaryMetadata(
  fields: HeaderField[],
  headers: Metadata | null,
  trailers: Metadata | null,
): void {
  if (headers) appendConnectMetadata(fields, headers, "");
  if (trailers) appendConnectMetadata(fields, trailers, "trailer-");
}

function appendConnectMetadata(fields: HeaderField[], md: Metadata, prefix: string): void {
  const start = fields.length;
  appendMetadata(fields, md);
  let kept = start;
  for (let i = start; i < fields.length; i++) {
    const [name, value] = fields[i];
    if (isConnectReserved(name)) continue;
    fields[kept++] = prefix === "" ? fields[i] : [prefix + name, value];
  }
  fields.length = kept;
}

function isConnectReserved(name: string): boolean {
  return name.startsWith("connect-") || name === STATUS_DETAILS_KEY ||
    name === "content-length" || name === "content-encoding";
}

/**
 * Trailers as the EndStreamResponse's `metadata` object: each key an array
 * of strings, `-bin` values unpadded base64 (spec "EndStreamMessage").
 * Null when nothing is left after dropping reserved keys, so the field can
 * be omitted.
 *
 * @example
 * ```ts
 * connectMetadataRecord(Metadata.from({ "acme-operation-cost": "237" }));
 * // { "acme-operation-cost": ["237"] }
 * ```
 */
export function connectMetadataRecord(md: Metadata | null): Record<string, string[]> | null {
  if (md === null || md.size === 0) return null;
  const fields: HeaderField[] = [];
  appendConnectMetadata(fields, md, "");
  if (fields.length === 0) return null;
  const record: Record<string, string[]> = {};
  for (const [name, value] of fields) {
    // Back from one-char-per-byte to text: the JSON is UTF-8.
    (record[name] ??= []).push(name.endsWith("-bin") ? value : fromLatin1(value));
  }
  return record;
}

/**
 * Metadata from an EndStreamResponse's `metadata` object; null when it is
 * not an object of string arrays.
 *
 * @example
 * ```ts
 * metadataFromConnectRecord({ "x-id-bin": ["AQID"] })?.get("x-id-bin"); // Uint8Array [1, 2, 3]
 * ```
 */
export function metadataFromConnectRecord(record: unknown): Metadata | null {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return null;
  const md = new Metadata();
  for (const [key, values] of Object.entries(record)) {
    if (!Array.isArray(values)) return null;
    const name = key.toLowerCase();
    for (const value of values) {
      if (typeof value !== "string") return null;
      md.add(name, name.endsWith("-bin") ? decodeBase64(value) : value);
    }
  }
  return md;
}
