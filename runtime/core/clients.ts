/**
 * What `ctx.clients` is: the handler-facing side of calling other services.
 * The core owns these types so the call context does not depend on how
 * clients are made (runtime/client/ implements them on grpc-js channels).
 * @module
 */
import type { Span } from "@opentelemetry/api";

/** Per-call options of a client method. */
export interface ClientCallOptions {
  /** Cancels the call; the server sees CANCELLED. */
  signal?: AbortSignal;
  /** Absolute deadline (epoch ms); the earlier of this and the parent's wins. */
  deadline?: number;
  /** Relative deadline in ms, for convenience; the earliest of all deadlines wins. */
  timeoutMs?: number;
  /** Request metadata (headers). */
  metadata?: Record<string, string | string[]>;
}

/** What a bound client inherits from the call it is made for (e.g. a handler's `ctx`). */
export interface CallParent {
  signal?: AbortSignal;
  /** Absolute deadline (epoch ms); Infinity or undefined for none. */
  deadline?: number;
  /** The calling span: outgoing calls are its children (tracing). */
  readonly span?: Span;
  /** The incoming call's metadata: its `baggage` is passed on (tracing). */
  readonly metadata?: { get(key: string): unknown };
}

/**
 * Traces outgoing calls (the tracing built-in implements it): a CLIENT span
 * per call and the headers that carry its context to the next service.
 */
export interface OutgoingTracer {
  start(method: OutgoingMethod, parent: CallParent | undefined): OutgoingSpan;
}

/** The method an outgoing call is for. */
export interface OutgoingMethod {
  /** `pkg.Service`. */
  readonly service: string;
  /** `Method`. */
  readonly name: string;
}

/** One outgoing call's span. */
export interface OutgoingSpan {
  /** Request metadata to send: `traceparent`, `tracestate`, `baggage`. */
  readonly headers: readonly (readonly [string, string])[];
  /** The instance picked, `host:port` (`server.address`, `server.port`). */
  setPeer(address: string): void;
  /** Ends the span with the call's status code. */
  end(code: number, message: string): void;
}

/** A unary method: one request, one response. */
export type UnaryClientMethod<Req = unknown, Res = unknown> = (
  request: Req,
  options?: ClientCallOptions,
) => Promise<Res>;
/** A server-streaming method: one request, a stream of responses. */
export type ServerStreamClientMethod<Req = unknown, Res = unknown> = (
  request: Req,
  options?: ClientCallOptions,
) => AsyncIterable<Res>;
/** A client-streaming method: a stream of requests, one response. */
export type ClientStreamClientMethod<Req = unknown, Res = unknown> = (
  requests: AsyncIterable<Req> | Iterable<Req>,
  options?: ClientCallOptions,
) => Promise<Res>;
/** A bidi-streaming method: streams both ways. */
export type BidiStreamClientMethod<Req = unknown, Res = unknown> = (
  requests: AsyncIterable<Req> | Iterable<Req>,
  options?: ClientCallOptions,
) => AsyncIterable<Res>;

/**
 * A dependency's client: one function per method, under the lowerCamel name
 * (`sayHello`) and the proto name (`SayHello`). Loosely typed by default;
 * pass your own shape to `clients.get<MyClient>(...)` for checked calls.
 */
// deno-lint-ignore no-explicit-any
export type ServiceClient = Record<string, (input: any, options?: ClientCallOptions) => any>;

/** What handlers see as `ctx.clients`. */
export interface CallClients {
  /** The client for a declared dependency; throws for an undeclared one. */
  get<T extends object = ServiceClient>(service: string): T;
}

/**
 * Hands each call its `ctx.clients`: a view whose calls inherit that call's
 * deadline and cancellation. The server asks for it on first use.
 */
export interface ClientsForCalls {
  forCall(parent: CallParent): CallClients;
}
