/**
 * The narrow interface between the call pipeline and a gRPC transport.
 * Everything above it (handlers, interceptors, health, metrics, shutdown)
 * sees only these types; grpc-js (and later a native HTTP/2 server) sit
 * beneath it.
 * @module
 */
import type { Status } from "../core/errors.ts";
import type { Metadata } from "../core/metadata.ts";
import type { CallKind } from "../core/context.ts";
import type { PeerCertificate } from "../core/peer.ts";
import type { MemoryBudget } from "../util/memory_budget.ts";

/** A method path the transport routes, and how many messages flow each way. */
export interface Route {
  /** `/pkg.Service/Method`. */
  readonly path: string;
  readonly kind: CallKind;
  /**
   * The method is `idempotency_level = NO_SIDE_EFFECTS`: Connect may call it
   * with GET. Read by the HTTP/1.1 (web) side only.
   */
  readonly noSideEffects?: boolean;
  /**
   * Canonical-JSON converters for the method's messages, built on first use
   * (Connect and gRPC-Web `+json`); absent: JSON requests are refused.
   */
  readonly json?: () => Promise<RouteJsonCodec>;
}

/** A route's JSON converters; both throw (JsonMappingError) with a message naming the field. */
export interface RouteJsonCodec {
  requestToBinary(json: string): Uint8Array;
  responseToJson(bytes: Uint8Array): string;
}

/** How a call ends. */
export interface CallStatus {
  readonly code: Status;
  readonly message: string;
  /** Trailers, or null for none. */
  readonly trailers: Metadata | null;
}

/** One incoming call, as the transport hands it to the pipeline. */
/**
 * A call's request messages. A transport's iterator may also offer
 * `poll()`: the next message if it can be had now, else undefined (then
 * `next()` waits for it); the pipeline then decodes a client stream whose
 * messages came in one read without a promise per message.
 */
export interface RequestMessages extends AsyncIterable<Uint8Array> {
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> & { poll?(): Uint8Array | undefined };
}

export interface TransportCall {
  readonly route: Route;
  /** Request headers, without HTTP/2 pseudo-headers and transport-reserved keys. */
  readonly metadata: Metadata;
  /**
   * The first value of one text request header (`name` in lower case), or
   * undefined when absent. Unlike `metadata`, builds nothing: for code that
   * reads a header on every call (tracing's `traceparent`).
   */
  header(name: string): string | undefined;
  /** Remote address, `ip:port`. */
  readonly peer: string;
  /** The verified client certificate on mTLS connections, else null. */
  readonly peerCertificate: PeerCertificate | null;
  /** Absolute deadline in epoch ms, Infinity when the client set none. */
  readonly deadline: number;
  /**
   * Aborts when the call can no longer complete: the client cancelled, the
   * deadline passed (the transport has then already sent DEADLINE_EXCEEDED),
   * or the transport was closed.
   */
  readonly signal: AbortSignal;
  /**
   * Whether `signal` has aborted, read without making it. A transport makes
   * the signal on first use; the pipeline checks this one on every call, so a
   * handler that never looks at `ctx.signal` costs no AbortController (two
   * objects and a WebIDL brand per call, kept until the call is collected).
   */
  readonly aborted: boolean;
  /** The request of a unary or server-streaming call; null for the others. */
  readonly request: Uint8Array | null;
  /**
   * Request messages of a client- or bidi-streaming call. Reading is paused
   * while the consumer does not pull, so a fast client cannot make the
   * server buffer without bound. Ends when the client half-closes; throws if
   * the call is cancelled.
   */
  requests(): RequestMessages;
  /** Sends response headers now. Later calls are ignored. */
  sendHeaders(headers: Metadata): void;
  /**
   * Sends one response message of a streaming call. Returns a promise when
   * the transport's buffer is full: the caller awaits it before writing more.
   */
  write(message: Uint8Array): Promise<void> | void;
  /**
   * Ends the call with `status`. For unary and client-streaming calls that
   * succeed, `response` is the single reply. Calls after the first are
   * ignored. Returns the code the client was sent, which is not `status`
   * when the transport had already ended the call (deadline, reset,
   * shutdown) or could not send the response (size limit, memory budget):
   * metrics and logs count that one.
   */
  end(status: CallStatus, response?: Uint8Array): Status;
  /**
   * `performance.now()` when the transport read the bytes that let the call
   * start (the request of a unary or server-streaming call, the headers of
   * the others); 0 or absent when it was not asked to time reads (see
   * TransportOptions.timeReads). How long the call waited in this process
   * before the pipeline got it is the time since.
   */
  readonly receivedAt?: number;
  /** Whether the request message last taken was compressed on the wire (native only). */
  readonly requestCompressed?: boolean;
  /**
   * Compresses the following response messages, if the client accepts gzip,
   * or stops compressing them (native only).
   */
  compressResponses?(enabled: boolean): void;
}

/** What a transport may be given besides the `server` config. */
export interface TransportOptions {
  /** The process's memory budget (native only). */
  readonly memory?: MemoryBudget;
  /**
   * Stamp each socket read with the time, so calls carry `receivedAt`
   * (native only): one clock read per read, so only when someone needs it.
   */
  readonly timeReads?: boolean;
}

/** Where a transport listens. */
export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

/** A gRPC server transport. */
export interface Transport {
  /**
   * Binds and starts serving `routes`; each call goes to `onCall`. Paths not
   * in `routes` are answered UNIMPLEMENTED by the transport itself.
   */
  listen(routes: readonly Route[], onCall: (call: TransportCall) => void): Promise<BoundAddress>;
  /**
   * Replaces the routes served, for connections already open too, without
   * closing the listener (live reload). Calls already started are not
   * touched. Absent: the transport cannot; restart it instead.
   */
  setRoutes?(routes: readonly Route[]): void;
  /**
   * Stops accepting new calls (GOAWAY) and resolves once every in-flight
   * call has ended. Bound it with a timeout and follow with `close()`.
   */
  drain(): Promise<void>;
  /** Cancels every call (their signals abort) and closes all connections now. */
  close(): Promise<void>;
  /**
   * False while the listener cannot accept connections (out of file
   * descriptors, or bound again after it failed); `/readyz` reports it.
   * Absent: the transport cannot tell.
   */
  readonly accepting?: boolean;
}
