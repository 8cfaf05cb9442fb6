/**
 * A token bucket: `rate` tokens per second flow into a bucket that holds at
 * most `burst`. Each call takes one token; with none left it is rejected.
 * @module
 */

/** A monotonic millisecond clock; `performance.now()` unless a test fakes it. */
export type Clock = () => number;

/** The default clock. Monotonic, so a wall-clock step never mints or steals tokens. */
export const monotonicClock: Clock = () => performance.now();

// Refills add fractions (elapsed * rate / 1000); without a little slack a
// sum such as 0.1 + 0.2 + ... could land at 0.9999999 and refuse a token
// that is, by the arithmetic, there.
const _EPSILON = 1e-9;

/**
 * What the rate limiter needs of a bucket: TokenBucket here, or one shared
 * by the workers of a process (rate_limit/shared_limits.ts).
 */
export interface RateBucket {
  readonly rate: number;
  readonly burst: number;
  tokens(now?: number): number;
  canTake(now?: number): boolean;
  tryTake(now?: number): boolean;
  retryAfterMs(now?: number): number;
}

/**
 * A token bucket that starts full and refills lazily: no timers, the tokens
 * earned since the last look are added whenever it is asked. Every method
 * takes an optional `now` so a caller checking several buckets reads the
 * clock once.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 * const bucket = new TokenBucket(10, 5); // 10/s, at most 5 at once
 * if (!bucket.tryTake()) console.log(`retry after ${bucket.retryAfterMs()}ms`);
 * ```
 */
export class TokenBucket implements RateBucket {
  /** Tokens added per second. */
  readonly rate: number;
  /** Capacity: calls allowed at once before the rate applies. */
  readonly burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  /**
   * @param rate tokens per second, > 0
   * @param burst capacity, >= 1
   * @param clock monotonic milliseconds; tests pass a fake
   */
  constructor(rate: number, burst: number, clock: Clock = monotonicClock) {
    if (!(rate > 0)) {
      throw new RangeError(`Cannot create TokenBucket: rate must be > 0, got ${rate}`);
    }
    if (!(burst >= 1)) {
      throw new RangeError(`Cannot create TokenBucket: burst must be >= 1, got ${burst}`);
    }
    this.rate = rate;
    this.burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock();
  }

  /** Tokens available now (fractional), after refilling. */
  tokens(now: number = this.#clock()): number {
    this.#refill(now);
    return this.#tokens;
  }

  /** Whether a token is available, without taking it. */
  canTake(now: number = this.#clock()): boolean {
    this.#refill(now);
    return this.#tokens >= 1 - _EPSILON;
  }

  /** Takes a token if one is available; returns whether it did. */
  tryTake(now: number = this.#clock()): boolean {
    if (!this.canTake(now)) return false;
    // max(0, ...) absorbs the epsilon so the count never goes negative.
    this.#tokens = Math.max(0, this.#tokens - 1);
    return true;
  }

  /** Milliseconds until a token will be available; 0 when one is now. */
  retryAfterMs(now: number = this.#clock()): number {
    if (this.canTake(now)) return 0;
    // At least 1: a hint of "0ms" on a rejection would invite a busy loop.
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.rate));
  }

  #refill(now: number): void {
    // A clock that did not advance (or a fake one moved back) adds nothing.
    if (now <= this.#last) return;
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.rate) / 1000);
    this.#last = now;
  }
}
