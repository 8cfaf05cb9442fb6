/**
 * Call tracing as the call runner sees it: a span opened before anything
 * else runs, the interceptors and handler run inside its context, and the
 * span closed with the status the client gets. The tracing built-in
 * (runtime/tracing/) implements it; the runner knows only this shape, so
 * with tracing off nothing of it is loaded.
 * @module
 */
import type { ServerCallContext } from "./call_context.ts";

/** One method's tracer. */
export interface CallTracer {
  /**
   * Opens the call's span and sets `ctx.callSpan`; before admission and the
   * interceptors. `now` is `performance.now()` at the call's start, read
   * once for every observer.
   */
  start(ctx: ServerCallContext, now: number): void;
  /**
   * Calls `fn(...args)` so that code in it sees the call's span as the
   * active one (`@opentelemetry/api`'s context). The runner calls the
   * handler through it: entering a context costs, and every await resumed
   * inside one costs again, so it spans the handler (and a streaming
   * handler's whole stream), not the interceptors.
   */
  within<R>(ctx: ServerCallContext, fn: (a: never, b: never) => R, a?: unknown, b?: unknown): R;
  /**
   * Closes the span with the status the client gets. `thrown` is what the
   * handler threw when it was not a deliberate RpcError (a bug), else
   * undefined; `now` is `performance.now()` at the call's end.
   */
  finish(ctx: ServerCallContext, code: number, message: string, thrown: unknown, now: number): void;
}

/** The tracer for each method, or null for methods that are not traced. */
export type TracerFor = (method: {
  readonly service: string;
  readonly name: string;
  readonly path: string;
}) => CallTracer | null;
