/**
 * The call pipeline: decode, run the handler for its call kind, encode,
 * and end the call with the right status. The chain of interceptors and the
 * handler body are composed once per method at start-up.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import type { MethodBinding } from "../handlers/mod.ts";
import type { Logger } from "../core/logger.ts";
import { Metadata } from "../core/metadata.ts";
import type { MethodDescriptor } from "../protos/types.ts";
import { DecodeBudgetError, SCAN_FROM_BYTES } from "../protos/decode_cost.ts";
import type { MemoryBudget } from "../util/memory_budget.ts";
import type { TransportCall } from "../transport/types.ts";
import type { ClientsForCalls } from "../core/clients.ts";
import { ServerCallContext } from "./call_context.ts";
import { type CallHandler, compose, type Interceptor } from "../core/interceptor.ts";
import { FailureLog, HandlerContractError, RequestDecodeError } from "./failure_log.ts";
import type { CallObserver } from "./observer.ts";
import type { CallAdmission } from "./admission.ts";
import type { CallTracer } from "./call_tracer.ts";

/** Runs one call to completion; never rejects. */
export type CallRunner = (call: TransportCall) => Promise<void>;

/** What the pipeline needs besides the binding. */
export interface DispatchOptions {
  readonly log: Logger;
  /** What `ctx.clients` hands out. */
  readonly clients: ClientsForCalls;
  /** Run in order, outermost first, around the handler. */
  readonly interceptors: readonly Interceptor[];
  /** Told when each call starts and ends (metrics, access log); outside every interceptor. */
  readonly observer?: CallObserver | null;
  /** The process's memory budget: large requests take their decoded size from it. */
  readonly memory?: MemoryBudget;
  /** Asked before anything else whether the call may run (the overload limiter); null: always. */
  readonly admission?: CallAdmission | null;
  /** Opens a span around the call, outside everything else; null: not traced. */
  readonly tracer?: CallTracer | null;
}

/** Builds the runner for one method. */
export function createCallRunner(binding: MethodBinding, options: DispatchOptions): CallRunner {
  const { method } = binding;
  const { log } = options;
  const memory = options.memory ?? null;
  const tracer = options.tracer ?? null;
  const body = binding.handler
    ? createBody(method, binding.handler, memory, tracer)
    : unimplemented(method);
  const chain = compose(options.interceptors, body as CallHandler);

  const observer = options.observer ?? null;
  const admission = options.admission ?? null;
  const timed = observer !== null || tracer !== null;
  const failures = new FailureLog();

  return async function runCall(call) {
    const ctx = new ServerCallContext(call, method, log, options.clients);
    // One clock read at each end, shared by the span and the observers.
    const start = timed ? performance.now() : 0;
    // First: a call refused below still gets its span, with the code it ended with.
    if (tracer !== null) tracer.start(ctx, start);
    if (observer) observer.started(ctx);
    let code: number = Status.OK;
    let message = "";
    let bug: unknown = undefined;
    let ticket = -1;
    try {
      // Before the interceptors and the decode: a refusal costs only its status.
      if (admission !== null) ticket = admission.admit(call);
      await chain(ctx);
      // A handler that ignored its signal may return after the transport ended the
      // call (deadline, client cancel, shutdown): count and log what the client got.
      if (call.aborted) call.signal.throwIfAborted();
      ctx.flushHeaders();
      // The transport may have sent another code (response over the size limit or the memory budget).
      code = call.end({ code: Status.OK, message: "", trailers: ctx.trailers }, ctx.response);
    } catch (thrown) {
      const error = RpcError.from(thrown, call);
      code = error.code;
      message = error.message;
      // A deliberate RpcError is an answer, not a failure; log only what
      // the handler did not mean to send, and RpcErrors wrapping a cause.
      if (error !== thrown || error.cause !== undefined) {
        // The call must still end, whatever the thrown value does to the logger.
        if (error !== thrown) bug = thrown;
        try {
          failures.write(ctx, thrown, code);
        } catch { /* the logger writes what it can; nothing more to do here */ }
      }
      ctx.flushHeaders();
      code = call.end({ code, message, trailers: trailersOf(ctx, error) });
    }
    if (ctx.decodedBytes !== 0) releaseDecoded(ctx, memory!);
    if (ticket >= 0) admission!.release(ticket);
    // After end() queued the status, in the same turn: nothing has reached
    // the client yet, so a scrape it makes next already counts this call.
    if (timed) {
      const end = performance.now();
      if (observer) observer.finished(ctx, code, end - start);
      if (tracer !== null) tracer.finish(ctx, code, message, bug, end);
    }
  };
}

type Body = (ctx: ServerCallContext) => Promise<void>;

function unimplemented(method: MethodDescriptor): Body {
  const error = new RpcError(
    Status.UNIMPLEMENTED,
    `method ${method.path} is not implemented by this server`,
  );
  return () => Promise.reject(error);
}

function createBody(
  method: MethodDescriptor,
  handler: (...args: never[]) => unknown,
  memory: MemoryBudget | null,
  tracer: CallTracer | null,
): Body {
  const fn = handler as (request: unknown, ctx: ServerCallContext) => unknown;
  const decodeRequest = (ctx: ServerCallContext, bytes: Uint8Array) => decode(ctx, bytes, memory);
  const decodeStream = (ctx: ServerCallContext) => decodeAll(ctx, memory);
  if (tracer !== null) return tracedBody(method.kind, fn, decodeRequest, decodeStream, tracer);
  switch (method.kind) {
    case "unary":
      return async (ctx) => {
        const request = decodeRequest(ctx, ctx.call.request!);
        ctx.response = encodeResponse(ctx, await fn(request, ctx));
      };
    case "client_stream":
      return async (ctx) => {
        ctx.response = encodeResponse(ctx, await fn(decodeStream(ctx), ctx));
      };
    case "server_stream":
      return (ctx) => sendStream(ctx, fn(decodeRequest(ctx, ctx.call.request!), ctx));
    case "bidi_stream":
      return (ctx) => sendStream(ctx, fn(decodeStream(ctx), ctx));
  }
}

/**
 * The same bodies with the handler run through the tracer, so code in it
 * sees the call's span as the active one. A generator's body runs in the
 * context of whoever pulls it, so for the streaming kinds the whole stream
 * runs inside.
 */
function tracedBody(
  kind: MethodDescriptor["kind"],
  fn: (request: unknown, ctx: ServerCallContext) => unknown,
  decodeRequest: (ctx: ServerCallContext, bytes: Uint8Array) => unknown,
  decodeStream: (ctx: ServerCallContext) => AsyncIterable<unknown>,
  tracer: CallTracer,
): Body {
  const streamed = (ctx: ServerCallContext, request: unknown) => () =>
    sendStream(ctx, fn(request, ctx));
  switch (kind) {
    case "unary":
      return async (ctx) => {
        const request = decodeRequest(ctx, ctx.call.request!);
        ctx.response = encodeResponse(ctx, await tracer.within(ctx, fn, request, ctx));
      };
    case "client_stream":
      return async (ctx) => {
        const requests = decodeStream(ctx);
        ctx.response = encodeResponse(ctx, await tracer.within(ctx, fn, requests, ctx));
      };
    case "server_stream":
      return (ctx) => tracer.within(ctx, streamed(ctx, decodeRequest(ctx, ctx.call.request!)));
    case "bidi_stream":
      return (ctx) => tracer.within(ctx, streamed(ctx, decodeStream(ctx)));
  }
}

async function sendStream(ctx: ServerCallContext, output: unknown): Promise<void> {
  if (!isIterable(output)) {
    throw new HandlerContractError(
      `a streaming handler must be an async generator or return an iterable, got ${typeof output}`,
    );
  }
  const { call } = ctx;
  for await (const message of output) {
    if (call.aborted) break;
    const bytes = encodeResponse(ctx, message);
    ctx.flushHeaders();
    ctx.messagesSent++;
    const backpressure = call.write(bytes);
    if (backpressure) await backpressure;
  }
  if (call.aborted) call.signal.throwIfAborted();
}

function decode(ctx: ServerCallContext, bytes: Uint8Array, memory: MemoryBudget | null): unknown {
  ctx.messagesReceived++;
  // The previous message of a stream: the handler has moved on from it.
  if (ctx.decodedBytes !== 0) releaseDecoded(ctx, memory!);
  try {
    // Small messages cannot amplify much: no estimate, no closure (decode_cost.ts).
    if (memory === null || bytes.length < SCAN_FROM_BYTES) {
      return ctx.descriptor.decodeRequest(bytes);
    }
    return ctx.descriptor.decodeRequest(bytes, (estimate) => {
      if (!memory.take(estimate)) {
        throw new RpcError(
          Status.RESOURCE_EXHAUSTED,
          `The server's memory budget has no room to decode this ${ctx.descriptor.requestType} ` +
            `(about ${Math.ceil(estimate / 2 ** 20)} MiB once decoded) now; try again later`,
        );
      }
      ctx.decodedBytes = estimate;
    });
  } catch (error) {
    if (error instanceof RpcError) throw error;
    if (error instanceof DecodeBudgetError) {
      throw new RpcError(Status.RESOURCE_EXHAUSTED, error.message, { cause: error });
    }
    throw new RequestDecodeError(ctx.descriptor.requestType, error);
  }
}

/** Gives back the decoded bytes the previous request took from the memory budget. */
function releaseDecoded(ctx: ServerCallContext, memory: MemoryBudget): void {
  memory.give(ctx.decodedBytes);
  ctx.decodedBytes = 0;
}

/**
 * The decoded request stream. A plain iterator rather than an async
 * generator: a generator layer costs a resumption and a promise per message.
 */
function decodeAll(ctx: ServerCallContext, memory: MemoryBudget | null): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<unknown> {
      // poll(), where the transport offers it (transport/types.ts RequestMessages).
      const source = ctx.call.requests()[Symbol.asyncIterator]();
      const decoded = (result: IteratorResult<Uint8Array>): IteratorResult<unknown> =>
        result.done ? result : { value: decode(ctx, result.value, memory), done: false };
      const next = source.poll === undefined ? () => source.next().then(decoded) : () => {
        const bytes = source.poll!();
        if (bytes === undefined) return source.next().then(decoded);
        // A decode error rejects, as it does on the .then() path.
        try {
          return Promise.resolve({ value: decode(ctx, bytes, memory), done: false });
        } catch (error) {
          return Promise.reject(error);
        }
      };
      return {
        next,
        return: (value?: unknown) =>
          source.return?.(value).then(decoded) ?? Promise.resolve({ value, done: true }),
      };
    },
  };
}

function encodeResponse(ctx: ServerCallContext, value: unknown): Uint8Array {
  const method = ctx.descriptor;
  if (value === undefined && method.responseType !== "google.protobuf.Empty") {
    throw new HandlerContractError(
      `the handler returned undefined; ${method.path} must return a ${method.responseType}`,
    );
  }
  if (method.kind === "unary" || method.kind === "client_stream") ctx.messagesSent++;
  return method.encodeResponse(value ?? {});
}

function trailersOf(ctx: ServerCallContext, error: RpcError): Metadata | null {
  if (Object.keys(error.metadata).length === 0) return ctx.trailers;
  const extra = Metadata.from(error.metadata);
  if (!ctx.trailers) return extra;
  for (const [key, values] of extra.entries()) for (const v of values) ctx.trailers.add(key, v);
  return ctx.trailers;
}

function isIterable(value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> {
  return value !== null && typeof value === "object" &&
    (Symbol.asyncIterator in value || Symbol.iterator in value);
}
