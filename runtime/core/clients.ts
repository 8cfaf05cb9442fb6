/**
 * What `ctx.clients` is: the handler-facing side of calling other services.
 * The core owns these types so the call context does not depend on how
 * clients are made (runtime/client/ implements them on grpc-js channels).
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { CallKind } from "./call_kind.ts";
import type { Metadata } from "./metadata.ts";

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

/**
 * What handlers see as `ctx.clients`. `C` maps dependency names to their
 * client interfaces (`svc types` generates it as `DependencyClients`), so
 * `get("pkg.Service")` returns the typed client and a name that is not a
 * key fails `deno check`. Without `C`, any name returns a loose client.
 */
export interface CallClients<C extends object = UntypedClients> {
  /** The client for a declared dependency; throws for an undeclared one. */
  get<K extends keyof C & string>(service: K): C[K];
  /** The same, typed as `T` by hand (`get<BackendClient>("demo.Backend")`). */
  get<T extends object>(service: string): T;
}

/** The default client map: any service name, a loosely typed client (or the `T` asked for). */
export interface UntypedClients {
  [service: string]: ServiceClient;
}

/**
 * One outgoing call as client middleware and observers see it: one per
 * logical call, however many attempts (retries) it takes.
 */
export interface ClientCall {
  /** Fully-qualified service name, e.g. `demo.Backend`. */
  readonly service: string;
  /** Method name as in the proto, e.g. `Echo`. */
  readonly methodName: string;
  /** `/pkg.Service/Method`. */
  readonly method: string;
  readonly kind: CallKind;
  /** Request metadata to send; middleware may add, change or remove entries before `next`. */
  readonly metadata: Metadata;
  /**
   * Absolute deadline (epoch ms), Infinity for none: the earliest of the
   * caller's, the call options' and the dependency's default timeout.
   * Middleware may shorten it before `next`.
   */
  deadline: number;
  /** Aborts when the caller cancels (its own signal, or the handler's call ending). */
  readonly signal: AbortSignal | undefined;
  /** The call this one is made for (a handler's `ctx`), when there is one. */
  readonly parent: CallParent | undefined;
  /** Request messages written so far. */
  readonly messagesSent: number;
  /** Response messages received so far. */
  readonly messagesReceived: number;
  /** Attempts started so far; more than 1 after a retry. */
  readonly attempts: number;
  /** The instance (`host:port`) of the latest attempt; empty before the first. */
  readonly peer: string;
}

/**
 * Runs an outgoing call (or the rest of the client chain). Resolves when
 * the call succeeded, for streams when the last response was received;
 * rejects with an RpcError carrying the status otherwise.
 */
export type ClientCallHandler = (call: ClientCall) => Promise<void>;

/**
 * Client middleware: the same shape as server interceptors, for all four
 * call kinds. Runs once per logical call, outside retries.
 *
 * @example
 * ```ts
 * import { type ClientInterceptor } from "svc";
 * export const forwardToken: ClientInterceptor = (next) => async function forwardToken(call) {
 *   const token = call.parent?.metadata?.get("authorization");
 *   if (typeof token === "string") call.metadata.set("authorization", token);
 *   await next(call);
 * };
 * ```
 */
export type ClientInterceptor = (next: ClientCallHandler) => ClientCallHandler;

/**
 * Watches every outgoing call (the metrics built-in implements it):
 * `started` before the first attempt, `finished` with the status the
 * caller got (UNAVAILABLE for a call the circuit breaker rejected).
 */
export interface ClientObserver {
  started(call: ClientCall): void;
  finished(call: ClientCall, code: number, durationMs: number): void;
}

/**
 * Hands each call its `ctx.clients`: a view whose calls inherit that call's
 * deadline and cancellation. The server asks for it on first use.
 */
export interface ClientsForCalls {
  forCall(parent: CallParent): CallClients;
}
