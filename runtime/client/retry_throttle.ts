/**
 * Retry throttling (gRFC A6): one token count per dependency, so a failing
 * dependency gets a bounded trickle of retries instead of a retry storm.
 * The count starts at `maxTokens`; an attempt that fails with a retryable
 * code takes 1 (never below 0), an OK attempt gives back `tokenRatio`
 * (never above `maxTokens`), and retries stop while the count is at or
 * below `maxTokens / 2`. Tokens are kept in thousandths, as grpc-java
 * does, so 0.1 added ten times is exactly 1 and the threshold is exact.
 *
 * The bound this gives (what the integration test checks). Take N logical
 * calls making A attempts in all, R = A − N of them retries, S of the
 * attempts OK (S ≤ A). Each retry follows its own failure whose
 * `onFailure()` returned true, so took a whole token (the count was above
 * maxTokens/2 + 1 > 1) and left more than maxTokens/2. Look at the last of
 * those: the count was then above maxTokens/2, yet it is maxTokens minus
 * every token taken (at least R) plus every token given back (at most
 * tokenRatio × S, caps only lower it). So R < maxTokens/2 + tokenRatio × S
 * ≤ maxTokens/2 + tokenRatio × A, and with A = N + R:
 *
 *     A < (N + maxTokens / 2) / (1 − tokenRatio)
 *
 * It holds for any interleaving of concurrent calls, needs only that each
 * attempt reports at most one of onSuccess()/onFailure() and that a retry
 * follows only an onFailure() that returned true, and takes the ratio as
 * configured (thousandths are rounded down, never up). Since a call ends at
 * its first OK attempt, S ≤ N, which gives the tighter
 * A < N × (1 + tokenRatio) + maxTokens / 2.
 * @module
 */

/** Tokens are counted in these units. */
const MILLI = 1_000;

/** How a {@link RetryThrottle} fills and drains (`dependencies.<svc>.retryThrottling`). */
export interface RetryThrottleOptions {
  /** Tokens at the start and at most; retries stop at half or fewer. */
  maxTokens: number;
  /** Tokens an OK attempt gives back (a retryable failure takes 1). */
  tokenRatio: number;
}

/**
 * The retry token count of one dependency, shared by all its methods.
 *
 * @example
 * ```ts
 * import { RetryThrottle } from "./retry_throttle.ts";
 * const throttle = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
 * // An attempt failed with a retryable code, and attempts remain:
 * const mayRetry = throttle.onFailure();
 * if (!mayRetry) throttle.noteThrottled();
 * ```
 */
export class RetryThrottle {
  readonly #maxMilli: number;
  readonly #ratioMilli: number;
  #milli: number;
  #throttled = 0;

  constructor(options: RetryThrottleOptions) {
    const { maxTokens, tokenRatio } = options;
    if (!(Number.isFinite(maxTokens) && maxTokens > 0)) {
      throw new RangeError(
        `Cannot create retry throttle: maxTokens must be positive, got ${maxTokens}`,
      );
    }
    if (!(Number.isFinite(tokenRatio) && tokenRatio >= 0)) {
      throw new RangeError(
        `Cannot create retry throttle: tokenRatio must be 0 or more, got ${tokenRatio}`,
      );
    }
    // Rounded down so the bound in the module doc holds for the configured ratio;
    // the epsilon keeps 0.57 (569.999… thousandths in binary) at 570.
    this.#maxMilli = Math.floor(maxTokens * MILLI + 1e-6);
    this.#ratioMilli = Math.floor(tokenRatio * MILLI + 1e-6);
    this.#milli = this.#maxMilli;
  }

  /** An attempt succeeded (OK): tokens += tokenRatio, capped at maxTokens. */
  onSuccess(): void {
    this.#milli = Math.min(this.#maxMilli, this.#milli + this.#ratioMilli);
  }

  /**
   * An attempt failed with a retryable code: tokens −= 1 (not below 0).
   * Returns true when a retry may follow: tokens > maxTokens / 2 after the
   * decrement, as grpc-go decides. Call it for every retryable failure,
   * the last attempt's too, as A6 counts them.
   */
  onFailure(): boolean {
    this.#milli = Math.max(0, this.#milli - MILLI);
    return 2 * this.#milli > this.#maxMilli;
  }

  /** Tokens now, 0..maxTokens. */
  get tokens(): number {
    return this.#milli / MILLI;
  }

  /**
   * Counts a retry refused by throttling: call it when {@link onFailure}
   * returned false and the call would otherwise have been retried.
   */
  noteThrottled(): void {
    this.#throttled++;
  }

  /** Retries refused because of throttling so far (a counter). */
  get throttled(): number {
    return this.#throttled;
  }
}
