/**
 * Connect's JSON error and EndStreamResponse (connectrpc.com/docs/protocol
 * #error-end-stream): `{"code", "message", "details": [{"type", "value"}]}`
 * is a unary error's body, and `{"error"?, "metadata"?}` ends every
 * response stream. svc keeps typed details in the `grpc-status-details-bin`
 * trailer (status_details.ts); here they become JSON details and back.
 * @module
 */
import { RpcError, Status } from "../../core/errors.ts";
import { Metadata } from "../../core/metadata.ts";
import type { CallStatus } from "../types.ts";
import { decodeBase64, encodeBase64 } from "../native/base64.ts";
import { connectCodeName, statusFromConnectCode } from "./connect_codes.ts";
import { connectMetadataRecord, metadataFromConnectRecord } from "./connect_headers.ts";
import {
  decodeRpcStatus,
  encodeRpcStatus,
  type ErrorDetail,
  STATUS_DETAILS_KEY,
} from "./status_details.ts";

/** A Connect error as JSON (spec "Error"). */
export interface ConnectErrorJson {
  code: string;
  message?: string;
  details?: { type: string; value: string }[];
}

/**
 * The JSON error for a failed call: code name, message when not empty,
 * details from a `grpc-status-details-bin` trailer when there is a valid
 * one (value: unpadded base64, as the spec asks).
 *
 * @example
 * ```ts
 * connectErrorJson({ code: Status.UNAVAILABLE, message: "overloaded", trailers: null });
 * // { code: "unavailable", message: "overloaded" }
 * ```
 */
export function connectErrorJson(status: CallStatus): ConnectErrorJson {
  const json: ConnectErrorJson = { code: connectCodeName(status.code) };
  if (status.message) json.message = status.message;
  const raw = status.trailers?.get(STATUS_DETAILS_KEY);
  if (raw instanceof Uint8Array) {
    const details = decodeRpcStatus(raw)?.details;
    if (details && details.length > 0) {
      json.details = details.map((d) => ({ type: d.type, value: encodeBase64(d.value) }));
    }
  }
  return json;
}

/**
 * A unary error response's body: {@link connectErrorJson} as UTF-8 JSON.
 * Sent with `content-type: application/json` and httpStatusForCode().
 *
 * @example
 * ```ts
 * encodeConnectError({ code: Status.UNIMPLEMENTED, message: "not here", trailers: null });
 * ```
 */
export function encodeConnectError(status: CallStatus): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(connectErrorJson(status)));
}

/**
 * The EndStreamResponse that ends a Connect response stream (sent with
 * flag 0x02): `error` only when the call failed, `metadata` only when there
 * are trailers to send (`{}` after a plain success).
 *
 * @example
 * ```ts
 * encodeEndStream({ code: Status.OK, message: "", trailers: null }); // "{}"
 * ```
 */
export function encodeEndStream(status: CallStatus): Uint8Array {
  const end: { error?: ConnectErrorJson; metadata?: Record<string, string[]> } = {};
  if (status.code !== Status.OK) end.error = connectErrorJson(status);
  const metadata = connectMetadataRecord(status.trailers);
  if (metadata !== null) end.metadata = metadata;
  return new TextEncoder().encode(JSON.stringify(end));
}

/**
 * Reads a Connect error from a unary response (or an EndStreamResponse's
 * `error`). A missing or malformed body, or a code the spec does not list,
 * falls back to the code the HTTP status implies (spec #http-to-error-code:
 * pass codeFromHttpStatus()). Details go back into a
 * `grpc-status-details-bin` entry of the error's metadata, where svc keeps
 * them.
 *
 * @example
 * ```ts
 * const body = '{"code":"not_found","message":"no user"}';
 * decodeConnectError(body, Status.UNIMPLEMENTED).code; // Status.NOT_FOUND
 * ```
 */
export function decodeConnectError(
  body: unknown,
  fallback: Status,
  metadata: Metadata = new Metadata(),
): RpcError {
  let json = body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    try {
      json = JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body));
    } catch {
      return new RpcError(fallback, "", { metadata: metadata.toJSON() });
    }
  }
  const parsed = parseErrorJson(json);
  if (parsed === null) return new RpcError(fallback, "", { metadata: metadata.toJSON() });
  const code = statusFromConnectCode(parsed.code) ?? fallback;
  if (parsed.details.length > 0) {
    metadata.set(
      STATUS_DETAILS_KEY,
      encodeRpcStatus({ code, message: parsed.message, details: parsed.details }),
    );
  }
  return new RpcError(code, parsed.message, { metadata: metadata.toJSON() });
}

/** What an EndStreamResponse says. */
export interface EndStream {
  /** The call's failure; null when it succeeded. */
  readonly error: RpcError | null;
  readonly metadata: Metadata;
}

/**
 * Reads an EndStreamResponse; null when it is not one (malformed JSON, or
 * `error` present but not a valid Error: `{"error": {}}` and
 * `{"error": null}` are invalid per the spec).
 *
 * @example
 * ```ts
 * decodeEndStream(new TextEncoder().encode("{}"))?.error; // null
 * ```
 */
export function decodeEndStream(bytes: Uint8Array): EndStream | null {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return null;
  const end = json as { error?: unknown; metadata?: unknown };
  const metadata = end.metadata === undefined
    ? new Metadata()
    : metadataFromConnectRecord(end.metadata);
  if (metadata === null) return null;
  if (!("error" in end)) return { error: null, metadata };
  const parsed = parseErrorJson(end.error);
  if (parsed === null || statusFromConnectCode(parsed.code) === undefined) return null;
  return { error: decodeConnectError(end.error, Status.UNKNOWN, metadata), metadata };
}

interface ParsedError {
  code: string;
  message: string;
  details: ErrorDetail[];
}

/** The parts of an Error object, or null when it is not one (`{}`, `{"code": null}`, ...). */
function parseErrorJson(json: unknown): ParsedError | null {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return null;
  const { code, message, details } = json as Record<string, unknown>;
  if (typeof code !== "string") return null;
  if (message !== undefined && message !== null && typeof message !== "string") return null;
  const parsed: ParsedError = { code, message: message ?? "", details: [] };
  if (details === undefined || details === null) return parsed;
  if (!Array.isArray(details)) return null;
  for (const detail of details) {
    if (typeof detail !== "object" || detail === null) return null;
    const { type, value } = detail as Record<string, unknown>;
    if (typeof type !== "string" || typeof value !== "string") return null;
    parsed.details.push({ type, value: decodeBase64(value) });
  }
  return parsed;
}
