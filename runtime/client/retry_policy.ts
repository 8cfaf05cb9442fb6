/**
 * Which calls are retried, how many times and after what wait: the retry
 * policy of gRFC A6 ("gRPC Retry Design"). A dependency's configured
 * `retry` applies to every method; without one, methods whose proto marks
 * them idempotent (`idempotency_level`) get {@link IDEMPOTENT_DEFAULT} and
 * the rest are not retried, because running a non-idempotent call twice
 * may do its work twice. Also the server's `grpc-retry-pushback-ms`.
 * @module
 */
import { Status } from "../core/errors.ts";
import type { ResolvedRetryPolicy } from "../config/mod.ts";

/** A6 caps attempts here whatever the config says (the schema does too). */
const MAX_ATTEMPTS = 5;

/** One method's retry policy, in numbers. */
export interface RetryPolicy {
  /** Attempts per call, the first included: 2..5. */
  readonly maxAttempts: number;
  /** Upper bound of the first retry's random wait, ms. */
  readonly initialBackoffMs: number;
  /** Cap of the wait's upper bound as it grows, ms. */
  readonly maxBackoffMs: number;
  /** Growth of the upper bound per retry. */
  readonly backoffMultiplier: number;
  /** Status codes (numbers) that are retried. */
  readonly retryableCodes: ReadonlySet<number>;
}

/**
 * What idempotent methods get when the dependency has no `retry`: 3
 * attempts, waits up to 25 ms, ×2 per retry, at most 1 s, on UNAVAILABLE
 * only (the call never reached a handler, or the instance is going away).
 * The same values as the schema's `retry` defaults (retry_policy_test.ts
 * checks), so writing `retry: {}` changes which methods retry, not how.
 */
export const IDEMPOTENT_DEFAULT: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  initialBackoffMs: 25,
  maxBackoffMs: 1_000,
  backoffMultiplier: 2,
  retryableCodes: new Set<number>([Status.UNAVAILABLE]),
});

/**
 * The retry policy of one method: `configured` (the dependency's `retry`)
 * applies to every method; else an idempotent method gets
 * {@link IDEMPOTENT_DEFAULT}; else null, no retries. A policy that cannot
 * retry (1 attempt, or no retryable codes) is null too, so callers need
 * one check.
 *
 * @example
 * ```ts
 * import { retryPolicyFor } from "./retry_policy.ts";
 * retryPolicyFor(null, true)?.maxAttempts; // 3
 * retryPolicyFor(null, false); // null
 * ```
 */
export function retryPolicyFor(
  configured: ResolvedRetryPolicy | null,
  idempotent: boolean,
): RetryPolicy | null {
  if (configured === null) return idempotent ? IDEMPOTENT_DEFAULT : null;
  const maxAttempts = Math.min(configured.maxAttempts, MAX_ATTEMPTS);
  if (!(maxAttempts > 1) || configured.retryableStatusCodes.length === 0) return null;
  return Object.freeze({
    maxAttempts,
    initialBackoffMs: configured.initialBackoff,
    maxBackoffMs: configured.maxBackoff,
    backoffMultiplier: configured.backoffMultiplier,
    retryableCodes: new Set<number>(configured.retryableStatusCodes.map((name) => Status[name])),
  });
}

/**
 * The wait before retry number `retry` (1-based), in ms, as A6 specifies:
 * uniformly random in [0, min(initialBackoff × multiplier^(retry−1),
 * maxBackoff)). Full jitter, so clients that failed together do not come
 * back together. A `retry` below 1 counts as 1.
 *
 * @example
 * ```ts
 * import { IDEMPOTENT_DEFAULT, retryDelayMs } from "./retry_policy.ts";
 * retryDelayMs(IDEMPOTENT_DEFAULT, 3); // 0..100
 * ```
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.floor(retry) - 1);
  // A huge exponent gives Infinity, which min() turns into the cap.
  const bound = Math.min(
    policy.initialBackoffMs * policy.backoffMultiplier ** exponent,
    policy.maxBackoffMs,
  );
  return random() * bound;
}

/**
 * Reads the server's `grpc-retry-pushback-ms` trailer (A6): a non-negative
 * integer → wait that many ms instead of the backoff; present but negative,
 * not an integer, or given more than once → "stop" (the server asks not to
 * be retried; grpc-go reads these the same way); absent → null. Takes what
 * grpc-js `Metadata.get` returns (an array of values) or a single string.
 *
 * @example
 * ```ts
 * import { pushbackMs } from "./retry_policy.ts";
 * pushbackMs(["250"]); // 250
 * pushbackMs("-1"); // "stop"
 * pushbackMs([]); // null
 * ```
 */
export function pushbackMs(value: unknown): number | "stop" | null {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) {
    if (value.length === 0) return null;
    if (value.length > 1) return "stop";
    value = value[0];
  }
  if (typeof value !== "string") return "stop";
  const text = value.trim();
  if (!/^[0-9]+$/.test(text)) return "stop";
  const ms = Number(text);
  // Beyond 2^53 the number is not what the server wrote; grpc-go's Atoi fails there too.
  return Number.isSafeInteger(ms) ? ms : "stop";
}
