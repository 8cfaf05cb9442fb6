/**
 * Call observers: code that only watches calls (metrics, the access log)
 * rather than changing them. The call runner tells them when a call starts
 * and how it ended. Unlike an interceptor, an observer adds no async frame
 * or promise to the call, and all observers share one clock read at each end.
 * @module
 */
import type { ServerCall } from "../core/context.ts";
import type { CallHandler, Interceptor } from "../core/interceptor.ts";
import { RpcError } from "../core/errors.ts";

/** Watches calls; must not throw. */
export interface CallObserver {
  /** Before the first interceptor runs. */
  started(call: ServerCall): void;
  /**
   * Once the interceptors and handler settled, before the status is sent:
   * the status code the client gets and the milliseconds since `started`.
   */
  finished(call: ServerCall, code: number, durationMs: number): void;
}

/** One observer for several, or null when there are none. */
export function combineObservers(observers: readonly CallObserver[]): CallObserver | null {
  if (observers.length === 0) return null;
  if (observers.length === 1) return observers[0];
  return {
    started(call) {
      for (const observer of observers) observer.started(call);
    },
    finished(call, code, durationMs) {
      for (const observer of observers) observer.finished(call, code, durationMs);
    },
  };
}

/**
 * An observer as an interceptor, reporting what the call runner would: for
 * tests and benchmarks that drive one without a server.
 */
export function observingInterceptor(observer: CallObserver): Interceptor {
  return (next: CallHandler) =>
    async function observed(call) {
      observer.started(call);
      const start = performance.now();
      let code = 0;
      try {
        await next(call);
      } catch (thrown) {
        code = RpcError.from(thrown, call).code;
        throw thrown;
      } finally {
        observer.finished(call, code, performance.now() - start);
      }
    };
}
