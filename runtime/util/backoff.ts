/**
 * Retry timing for the registry: exponential backoff with full jitter, an
 * abortable sleep, and a timeout for promises that might never settle (etcd3
 * calls against a frozen etcd).
 * @module
 */

/** Bounds of an exponential backoff, in ms. */
export interface BackoffOptions {
  /** First ceiling. Default 250 ms. */
  initialMs?: number;
  /** Largest ceiling. Default 10 s. */
  maxMs?: number;
}

/**
 * The delay before retry number `attempt` (1-based): a uniformly random
 * value in `[0, min(maxMs, initialMs * 2^(attempt-1))]` ("full jitter"), so
 * a fleet that lost etcd at the same moment does not come back in lockstep.
 *
 * @example
 * ```ts
 * const ms = backoffDelay(3, { initialMs: 250, maxMs: 10_000 }); // 0..1000
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 10_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(Math.random() * ceiling);
}

/**
 * Resolves after `ms`, or at once when `signal` aborts. Never rejects, so a
 * retry loop can sleep without a try/catch; check `signal.aborted` after.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Thrown by {@link withDeadline} when the promise did not settle in time. */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/**
 * Settles like `promise`, or rejects with {@link TimeoutError} naming `what`
 * after `ms`. The late outcome of `promise` is swallowed, so a call that
 * fails after its timeout never becomes an unhandled rejection.
 *
 * @example
 * ```ts
 * await withDeadline(lease.revoke(), 1000, "etcd lease revoke");
 * ```
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(() => {});
  if (ms <= 0) return Promise.reject(new TimeoutError(`${what} timed out (no time left)`));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An error's message, for log fields; never throws. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
