/**
 * The mechanics under every attempt: picking an instance, starting a
 * grpc-js call on it and accounting for it (pool, breaker, retry tokens),
 * pumping request streams, and turning grpc-js errors into svc's `RpcError`.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { RpcError, Status } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { MethodDescriptor } from "../protos/types.ts";
import { errorMessage } from "../util/backoff.ts";
import type { Instance, InstancePool } from "./balancer.ts";
import type { Resolver } from "./resolver.ts";
import type { ClientCallHandler, ClientObserver, OutgoingTracer } from "../core/clients.ts";
import type { AdaptiveBreaker } from "./breaker.ts";
import { isDependencyFailure } from "./failure_codes.ts";
import type { DefaultTimeouts, OutgoingCall } from "./outgoing_call.ts";
import type { RetryPolicy } from "./retry_policy.ts";
import type { RetryThrottle } from "./retry_throttle.ts";

/** What the method functions need about their service. */
export interface Connection {
  readonly service: string;
  readonly pool: InstancePool;
  readonly resolver: Resolver;
  readonly log: Logger;
  /** Traces each call (tracing on), else null. */
  readonly tracer: OutgoingTracer | null;
  /** Counts each logical call (metrics on), else null. */
  readonly observer: ClientObserver | null;
  readonly timeouts: DefaultTimeouts;
  /** The dependency's circuit breaker; null when disabled. */
  readonly breaker: AdaptiveBreaker | null;
  readonly throttle: RetryThrottle;
  /** Retry policy by method path; a method not here is never retried. */
  readonly retryPolicies: ReadonlyMap<string, RetryPolicy>;
  /** Attempts after the first, for metrics. */
  readonly counters: { retries: number };
  /** The client middleware chain, shared by every dependency; null when there is none. */
  readonly middleware: { chain: ClientCallHandler | null };
}

/** Request streams: async or sync iterables. */
export type Requests = AsyncIterable<unknown> | Iterable<unknown>;
type Writable = grpc.ClientWritableStream<Buffer> | grpc.ClientDuplexStream<Buffer, unknown>;

/** How long a call waits for the very first resolution (e.g. etcd slow at start-up). */
const FIRST_RESOLUTION_WAIT_MS = 5_000;

/**
 * grpc-js reports a socket error on its side (the peer died) as INTERNAL
 * "Received RST_STREAM with code 2 triggered by internal client error: ..."
 * unless the error is ECONNRESET or ETIMEDOUT. On Deno a SIGKILLed peer
 * shows up as `write EPIPE` or "This socket has been ended by the other
 * party", so such calls would not count as UNAVAILABLE. The server never
 * sent a status: it is a transport failure, UNAVAILABLE by gRPC's rules.
 */
const CLIENT_TRANSPORT_ERROR =
  /^Received RST_STREAM with code \d+ triggered by internal client error/;

/**
 * Starts one attempt on `instance`: counts it in flight, cancels it when
 * the signal aborts, and when `onEnd` runs tells the pool (status and, for
 * unary calls, latency), the breaker (whether the dependency failed) and
 * retry throttling (an OK attempt earns tokens back).
 */
export function startCall<T extends { cancel(): void; on(event: "error", f: () => void): unknown }>(
  conn: Connection,
  instance: Instance,
  call: OutgoingCall,
  make: (onEnd: (error: StatusLike | null) => void) => T,
): T {
  conn.pool.acquire(instance);
  call.span?.setPeer(instance.address);
  call.attempts++;
  call.peer = instance.address;
  const started = Date.now();
  let done = false;
  let stream: T | null = null;
  const onAbort = () => stream?.cancel();
  const onEnd = (error: StatusLike | null) => {
    if (done) return;
    done = true;
    call.signal?.removeEventListener("abort", onAbort);
    const code = error === null ? Status.OK : statusCode(error);
    conn.pool.release(instance, code, call.kind === "unary" ? Date.now() - started : null);
    conn.breaker?.record(!isDependencyFailure(code));
    if (code === Status.OK) conn.throttle.onSuccess();
  };
  try {
    stream = make(onEnd);
  } catch (error) {
    onEnd({ code: Status.UNAVAILABLE });
    throw new RpcError(
      Status.UNAVAILABLE,
      `cannot call ${instance.address}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  // grpc-js emits "error" on streams; with no listener it would throw. The
  // callback or the async iterator reports the error to the caller.
  stream.on("error", () => {});
  call.signal?.addEventListener("abort", onAbort, { once: true });
  return stream;
}

/** Writes requests with backpressure and half-closes; stops once the call has ended. */
export async function pumpRequests(
  stream: Writable,
  requests: Requests,
  call: OutgoingCall,
  method: MethodDescriptor,
  ended: Promise<void>,
) {
  let over = false;
  ended.then(() => over = true);
  for await (const request of requests) {
    if (over) return;
    const bytes = encodeRequest(method, request);
    call.messagesSent++;
    if (!stream.write(bytes)) {
      let onDrain!: () => void;
      await Promise.race([new Promise<void>((r) => stream.once("drain", onDrain = r)), ended]);
      stream.removeListener("drain", onDrain);
    }
  }
  if (!over) stream.end();
}

/** An instance to call, waiting for the first resolution if there is none yet. */
export async function pickInstance(
  conn: Connection,
  method: MethodDescriptor,
  call: OutgoingCall,
  avoid?: Instance,
) {
  if (call.signal?.aborted) throw new RpcError(Status.CANCELLED, "call cancelled");
  if (call.deadline <= Date.now()) {
    throw new RpcError(Status.DEADLINE_EXCEEDED, `deadline exceeded before ${method.path} started`);
  }
  let instance = conn.pool.pick(avoid);
  if (!instance && conn.resolver.addresses === null) {
    const wait = Math.min(FIRST_RESOLUTION_WAIT_MS, call.deadline - Date.now());
    await conn.resolver.ready(wait, call.signal);
    if (call.signal?.aborted) throw new RpcError(Status.CANCELLED, "call cancelled");
    instance = conn.pool.pick(avoid);
  }
  if (instance) return instance;
  if (call.deadline <= Date.now()) {
    throw new RpcError(Status.DEADLINE_EXCEEDED, `deadline exceeded before ${method.path} started`);
  }
  const why = conn.resolver.addresses === null
    ? `${conn.resolver.source} could not be read yet`
    : conn.resolver.source;
  throw new RpcError(Status.UNAVAILABLE, `no instances of ${conn.service} are available (${why})`);
}

/**
 * svc's RpcError for a failed call: a grpc-js status becomes the remote
 * code and message as sent (transport failures as UNAVAILABLE), CANCELLED
 * when our own signal cancelled it, with the grpc-js error (and its
 * trailers) as `cause`. Anything else thrown goes through `RpcError.from`.
 */
export function fromGrpcError(error: unknown, call: OutgoingCall): RpcError {
  if (error instanceof RpcError) return error;
  const e = error as StatusLike & { message?: string };
  if (typeof e?.code !== "number") return RpcError.from(error);
  const code = statusCode(e);
  if (code === Status.CANCELLED && call.signal?.aborted) {
    return new RpcError(Status.CANCELLED, "call cancelled", { cause: error });
  }
  return new RpcError(code, e.details || e.message || "", { cause: error });
}

/** A grpc-js status or ServiceError: what the status code is derived from. */
export interface StatusLike {
  code?: number;
  details?: string;
}

/** The status code, with client-side transport failures counted as UNAVAILABLE. */
export function statusCode(status: StatusLike): Status {
  const code = (status.code ?? Status.UNKNOWN) as Status;
  if (code === Status.INTERNAL && CLIENT_TRANSPORT_ERROR.test(status.details ?? "")) {
    return Status.UNAVAILABLE;
  }
  return code;
}

/** grpc-js call options: the deadline, which grpc-js sends as `grpc-timeout`. */
export function grpcOptions(call: OutgoingCall): grpc.CallOptions {
  return Number.isFinite(call.deadline) ? { deadline: call.deadline } : {};
}

/** Requests are encoded by us (once, reused on retry), so grpc-js passes bytes through. */
export const passThrough = (bytes: Buffer): Buffer => bytes;

/** The response deserializer: the runtime's codec (plain objects, as handlers receive them). */
export function decoder(method: MethodDescriptor) {
  return (bytes: Buffer) => method.decodeResponse(bytes);
}

/** Encodes a request; a value that does not fit is the caller's bug, so a plain Error. */
export function encodeRequest(method: MethodDescriptor, value: unknown): Buffer {
  try {
    const bytes = method.encodeRequest(value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    throw new Error(`Cannot call ${method.path}: ${errorMessage(error)}`, { cause: error });
  }
}
