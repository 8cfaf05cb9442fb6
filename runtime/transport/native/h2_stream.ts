/**
 * What the HTTP/2 connection, its flow control and its output writer need
 * from a stream: the windows, the queued output, the close states and the
 * bookkeeping of request bytes. A gRPC call (NativeCall, call.ts) is one;
 * a gRPC-Web or Connect exchange over HTTP/2 (H2WebStream, h2_web_stream.ts)
 * is the other. Typed as this interface so the connection serves both
 * without knowing which protocol a stream speaks.
 * @module
 */
import type { Status } from "../../core/errors.ts";
import type { HeaderField } from "./hpack/mod.ts";

/** One open HTTP/2 stream as the connection drives it. */
export interface H2Stream {
  readonly id: number;

  // --- Sending: the peer's window, and DATA waiting for it.
  sendWindow: number;
  /** Framed DATA waiting for window, and the offset already sent of the first. */
  pending: Uint8Array[];
  pendingOffset: number;
  pendingBytes: number;
  /** The part of `pendingBytes` counted in the memory budget. */
  parkedBytes: number;
  /**
   * What ends the stream once `pending` is empty: trailers as HEADERS, or an
   * empty list for an empty DATA frame with END_STREAM (the web protocols end
   * their bodies without HTTP trailers).
   */
  trailers: readonly HeaderField[] | null;
  headersSent: boolean;
  /** We sent END_STREAM. */
  localClosed: boolean;
  /** Waiters for `pendingBytes` to fall; see OutputWriter.whenWritable. */
  drainWaiters: (() => void)[] | null;

  // --- Receiving: our window, and request bytes the handler has not taken.
  recvWindow: number;
  /** Received DATA bytes not yet given back as window. */
  unreleased: number;
  /** Released bytes not yet announced in a stream WINDOW_UPDATE. */
  windowCredit: number;
  /** Request bytes held for the handler (not released as window until taken). */
  heldBytes: number;
  /** The part of `heldBytes` the connection has counted. */
  heldCounted: number;
  /** Bytes reserved for a message being assembled or awaiting dispatch. */
  reservedBytes: number;
  /** The client sent END_STREAM. */
  remoteClosed: boolean;

  // --- The handler.
  /** A handler is running for this stream. */
  running: boolean;
  /** The stream closed while its handler still ran (it still counts against the stream limit). */
  detached: boolean;
  /** Nothing more will be sent: finished or cancelled. */
  readonly ended: boolean;

  /** Starts the stream's work once it is in the connection's table. */
  start(): void;
  /** Request body bytes `b[start, end)`; copy what is kept. */
  receive(b: Uint8Array, start: number, end: number): void;
  /** The client half-closed. */
  receiveEnd(): void;
  /** The stream is gone (reset, connection closed). */
  cancel(): void;
  /** The server is closing the connection under the stream. */
  abort(code: Status, message: string): void;
}
