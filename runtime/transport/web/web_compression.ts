/**
 * Compression on gRPC-Web and Connect: which request encoding a call uses,
 * whether its client takes gzip responses, and inflating a request within
 * the receive limit. The codecs are the native transport's (compression.ts:
 * identity, deflate, gzip); only the headers differ by protocol:
 *
 * - Connect unary: `Content-Encoding` / `Accept-Encoding` (a GET uses the
 *   `compression` query parameter), the body compressed as a whole.
 * - Connect streaming: `Connect-Content-Encoding` / `Connect-Accept-Encoding`,
 *   each envelope flagged 0x01 when compressed.
 * - gRPC-Web (binary and text): `grpc-encoding` / `grpc-accept-encoding`,
 *   per-message flag 0x01 as in gRPC.
 *
 * Responses are gzip (the one encoding `server.compression` can name) when
 * the server's policy or the handler (`ctx.compressResponses`) asks and the
 * client's accept header lists gzip. As connect-es does (compressMinBytes),
 * a message under {@link COMPRESS_MIN_BYTES} goes uncompressed: deflating a
 * few bytes costs CPU and saves nothing. An unsupported request encoding is
 * UNIMPLEMENTED with the accept header listing ours, as both specs ask.
 * @module
 */
import { Status } from "../../core/errors.ts";
import type { HeaderField } from "../native/hpack/mod.ts";
import { ACCEPTED_ENCODINGS, decompress, type Encoding } from "../native/compression.ts";
import type { CallStatus } from "../types.ts";
import { queryParam, type RequestProtocol } from "./protocol.ts";

/** Smallest message compressed in a response (connect-es's default compressMinBytes). */
export const COMPRESS_MIN_BYTES = 1024;

/** The compression headers of one protocol. */
interface CompressionHeaders {
  /** Names the request's encoding; the response's names ours. */
  readonly encoding: string;
  /** Lists the encodings a peer takes. */
  readonly accept: string;
  /** What we list in `accept` when refusing an encoding. */
  readonly accepted: string;
}

const CONNECT_UNARY: CompressionHeaders = {
  encoding: "content-encoding",
  accept: "accept-encoding",
  // HTTP content-codings: identity is implied.
  accepted: "gzip,deflate",
};
const CONNECT_STREAM: CompressionHeaders = {
  encoding: "connect-content-encoding",
  accept: "connect-accept-encoding",
  accepted: "gzip,deflate",
};
const GRPC_WEB: CompressionHeaders = {
  encoding: "grpc-encoding",
  accept: "grpc-accept-encoding",
  accepted: ACCEPTED_ENCODINGS,
};

/** The compression headers of `protocol`. */
export function compressionHeaders(protocol: RequestProtocol): CompressionHeaders {
  if (protocol.protocol === "connect") return CONNECT_UNARY;
  if (protocol.protocol === "connect-stream") return CONNECT_STREAM;
  return GRPC_WEB;
}

/** How a call's messages are compressed, as the request asked. */
export interface CallCompression {
  /** The encoding of the request body (Connect unary) or of its flagged messages. */
  readonly requestEncoding: Encoding;
  /** The client's accept header lists gzip. */
  readonly acceptsGzip: boolean;
}

/** A request in an encoding we do not read: its status and the header listing ours. */
export interface CompressionRefusal {
  readonly refused: CallStatus;
  readonly header: HeaderField;
}

/**
 * The compression a request asks for, or its refusal. `header` reads one
 * request header (null when absent); `query` is a Connect GET's.
 *
 * @example
 * ```ts
 * const got = negotiateCompression(protocol, (name) => request.headers.get(name), request.query);
 * if ("refused" in got) call.end(got.refused); // after adding got.header
 * ```
 */
export function negotiateCompression(
  protocol: RequestProtocol,
  header: (name: string) => string | null,
  query: string,
): CallCompression | CompressionRefusal {
  const headers = compressionHeaders(protocol);
  const named = protocol.get
    ? queryParam(query, "compression")
    : header(headers.encoding) ?? undefined;
  const requestEncoding = parseWebEncoding(named);
  if (requestEncoding === null) {
    const shown = JSON.stringify(String(named).slice(0, 64));
    return {
      refused: {
        code: Status.UNIMPLEMENTED,
        message: `Unsupported compression ${shown}: supported encodings are ${headers.accepted}`,
        trailers: null,
      },
      header: [headers.accept, headers.accepted],
    };
  }
  return { requestEncoding, acceptsGzip: listsGzip(header(headers.accept)) };
}

/** An encoding's name (case-insensitive; absent or empty: identity), or null if unsupported. */
export function parseWebEncoding(value: string | undefined | null): Encoding | null {
  const name = value?.trim().toLowerCase();
  if (name === undefined || name === "" || name === "identity") return "identity";
  if (name === "gzip" || name === "deflate") return name;
  return null;
}

/**
 * Whether an accept header lists gzip: a comma-separated list, each entry
 * perhaps with parameters (`gzip;q=0.5`, as browsers send in
 * Accept-Encoding); `q=0` means "not this one" (RFC 9110 §12.4.2).
 */
export function listsGzip(accept: string | null): boolean {
  if (accept === null) return false;
  for (const entry of accept.split(",")) {
    const [name, ...parameters] = entry.split(";");
    if (name.trim().toLowerCase() !== "gzip") continue;
    const q = parameters.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/**
 * One request message (or Connect unary body) inflated, or the status to
 * end with: RESOURCE_EXHAUSTED when it would inflate past `maxBytes`
 * (checked while inflating, so a zip bomb costs no memory), INTERNAL when
 * it is not valid `encoding` data (gRPC's code for a message that cannot be
 * decompressed). An empty body is an empty message, compressed or not.
 */
export function inflateMessage(
  encoding: Encoding,
  bytes: Uint8Array,
  maxBytes: number,
): Uint8Array | CallStatus {
  if (encoding === "identity" || bytes.length === 0) return bytes;
  try {
    return decompress(encoding, bytes, maxBytes);
  } catch (error) {
    return error instanceof RangeError
      ? {
        code: Status.RESOURCE_EXHAUSTED,
        message: `Received message that decompresses to a size larger than ${maxBytes}`,
        trailers: null,
      }
      : { code: Status.INTERNAL, message: "Failed to decompress message", trailers: null };
  }
}
