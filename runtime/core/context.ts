/**
 * The per-call context handlers receive as their second argument.
 * @module
 */
import type { MetadataValue } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { Metadata } from "./metadata.ts";
import type { CallClients, UntypedClients } from "./clients.ts";
import type { PeerCertificate } from "./peer.ts";
import type { Span } from "@opentelemetry/api";
import type { CallKind } from "./call_kind.ts";

export type { CallKind } from "./call_kind.ts";

/**
 * What a handler knows about the call it serves. `C` types `ctx.clients`
 * (`svc types` passes its generated `DependencyClients`).
 */
export interface CallContext<C extends object = UntypedClients> {
  /** Request headers. */
  readonly metadata: Metadata;
  /** Remote address, `ip:port`. */
  readonly peer: string;
  /** The verified client certificate on mTLS calls, else null. */
  readonly peerCertificate: PeerCertificate | null;
  /** Absolute deadline (epoch ms), or Infinity when the client set none. */
  readonly deadline: number;
  /** Aborts when the client cancels, the deadline passes, or shutdown forces the call to end. */
  readonly signal: AbortSignal;
  /** A logger bound to this call (method, peer). */
  readonly log: Logger;
  /** `/pkg.Service/Method`. */
  readonly method: string;
  /** Adds a response header; ignored once headers were sent (first message or end). */
  setHeader(key: string, value: MetadataValue): void;
  /** Adds a trailer, sent with the status. */
  setTrailer(key: string, value: MetadataValue): void;
  /**
   * Whether the request message last received was compressed on the wire
   * (`grpc-encoding`); null when the transport cannot tell (grpc-js).
   */
  readonly requestCompressed: boolean | null;
  /**
   * Compresses the following response messages with gzip, when the client
   * accepts it, or stops compressing them; `server.compression` is the
   * default. Called before the first message, it also sets the response's
   * `grpc-encoding`; after, only each message's flag can change. Ignored by
   * the grpc-js transport.
   */
  compressResponses(enabled: boolean): void;
  /**
   * Clients for the services under `dependencies` in the config:
   * `ctx.clients.get("pkg.Service").method(req)`. Their calls inherit this
   * call's remaining deadline and cancellation.
   */
  readonly clients: CallClients<C>;
  /**
   * The call's OpenTelemetry span, for attributes and events
   * (`ctx.span.setAttribute("user.id", id)`). With tracing off, or on a call
   * that is not traced, a span that records nothing. Code using
   * `@opentelemetry/api` directly finds it as the active span.
   */
  readonly span: Span;
}

/** What interceptors see: the handler's context plus facts about the call. */
export interface ServerCall extends CallContext {
  /** Fully-qualified service name, e.g. `helloworld.Greeter`. */
  readonly service: string;
  /** Method name as in the proto, e.g. `SayHello`. */
  readonly methodName: string;
  readonly kind: CallKind;
  /** Request messages received so far. */
  readonly messagesReceived: number;
  /** Response messages sent so far. */
  readonly messagesSent: number;
}
