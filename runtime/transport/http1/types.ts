/**
 * The shapes of the hardened HTTP/1.1 server connection: its limits, the
 * request a handler receives and the writer it answers with. The transport
 * serves gRPC-Web and Connect on them; nothing here knows either protocol.
 * @module
 */
import type { Http1Headers } from "./headers.ts";

/**
 * Limits and timings for one HTTP/1.1 connection; durations in ms.
 *
 * @example
 * ```ts
 * const limits: Http1Limits = {
 *   maxHeadBytes: 16 * 1024,
 *   maxHeaderCount: 100,
 *   maxBodyBytes: 4 << 20,
 *   headTimeoutMs: 10_000,
 *   bodyIdleTimeoutMs: 10_000,
 *   keepAliveIdleMs: 60_000,
 * };
 * ```
 */
export interface Http1Limits {
  /** Request line and header fields, CRLFs included (also bounds a chunked body's trailers). */
  readonly maxHeadBytes: number;
  /** Header fields in one request head (and in chunked trailers). */
  readonly maxHeaderCount: number;
  /** Request body bytes after decoding chunked framing; checked before reading when declared. */
  readonly maxBodyBytes: number;
  /** A request's whole head must arrive within this of its first byte (of opening, for the first). */
  readonly headTimeoutMs: number;
  /** The body may not stall (while we are ready for it) longer than this. */
  readonly bodyIdleTimeoutMs: number;
  /** A kept-alive connection waiting for its next request is closed after this. */
  readonly keepAliveIdleMs: number;
  /** After this many responses the connection closes (`Connection: close`); unlimited if absent. */
  readonly maxRequestsPerConnection?: number;
  /** A response write that makes no progress this long closes the connection; default bodyIdleTimeoutMs. */
  readonly writeStallTimeoutMs?: number;
}

/** One request, handed to the handler once its head is parsed; the body streams in after. */
export interface Http1Request {
  /** The method token, case preserved (methods are case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target as sent. */
  readonly target: string;
  /** The path without its query: `/pkg.Service/Method`; `*` for `OPTIONS *`. */
  readonly path: string;
  /** The query without its `?`, or "". */
  readonly query: string;
  /** Header fields; names lower-case, repeated fields kept in order. */
  readonly headers: Http1Headers;
  /** "2" when an HTTP/2 stream presents itself in this shape (native/h2_web_stream.ts). */
  readonly httpVersion: "1.0" | "1.1" | "2";
  /** `ip:port` of the client. */
  readonly peer: string;
  /**
   * The body as it arrives, decoded from Content-Length or chunked framing,
   * with backpressure. Iteration throws an {@link Http1ProtocolError} when the
   * body exceeds `maxBodyBytes`, is malformed, or stalls past
   * `bodyIdleTimeoutMs`, and an AbortError when the connection dies. Can be
   * iterated once.
   */
  readonly body: AsyncIterable<Uint8Array>;
  /** Aborts when the connection dies before the response ended. */
  readonly signal: AbortSignal;
}

/** How a handler answers. */
export interface Http1ResponseWriter {
  /**
   * Sets the status and header fields (sent with the first write or end).
   * `connection`, `keep-alive` and `transfer-encoding` are the connection's
   * to set and are dropped. Throws on invalid names or values (no CR, LF or
   * NUL may reach the wire: response splitting).
   */
  writeHead(status: number, headers: readonly (readonly [string, string])[]): void;
  /** Sends body bytes; chunked unless `content-length` was set. Resolves when handed to the kernel. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the response (implies `writeHead(200, [])` if not yet called). Idempotent. */
  end(): Promise<void>;
  /** True once the head has been sent. */
  readonly headSent: boolean;
}

/** Answers one request; a thrown error is answered 500 if nothing was sent yet. */
export type Http1Handler = (request: Http1Request, response: Http1ResponseWriter) => Promise<void>;

/** Optional parts of an {@link Http1Connection}. */
export interface Http1ConnectionOptions {
  /** The clock, in ms; default `performance.now`. Must match what `tick()` is given. */
  readonly now?: () => number;
  /** Called with what a handler threw; the client sees only a generic 500. */
  readonly onHandlerError?: (error: unknown) => void;
  /** Called once, when the socket is closed. */
  readonly onClose?: () => void;
}
