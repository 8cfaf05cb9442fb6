/**
 * A counter of in-flight calls with a cap.
 * @module
 */

/**
 * Counts calls in flight and refuses new ones at `max`. The caller pairs
 * every successful {@link ConcurrencyLimit.tryAcquire} with exactly one
 * {@link ConcurrencyLimit.release}, in a `finally`.
 *
 * @example
 * ```ts
 * import { ConcurrencyLimit } from "./concurrency.ts";
 * const limit = new ConcurrencyLimit(2);
 * if (limit.tryAcquire()) {
 *   try {
 *     console.log("working");
 *   } finally {
 *     limit.release();
 *   }
 * }
 * ```
 */
export class ConcurrencyLimit {
  /** The most calls allowed in flight at once. */
  readonly max: number;
  #inFlight = 0;

  /** @param max the cap, >= 1 */
  constructor(max: number) {
    if (!(max >= 1)) {
      throw new RangeError(`Cannot create ConcurrencyLimit: max must be >= 1, got ${max}`);
    }
    this.max = max;
  }

  /** Calls in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether another call would be admitted, without admitting it. */
  hasRoom(): boolean {
    return this.#inFlight < this.max;
  }

  /** Admits a call if there is room; returns whether it did. */
  tryAcquire(): boolean {
    if (this.#inFlight >= this.max) return false;
    this.#inFlight++;
    return true;
  }

  /** Ends an admitted call. */
  release(): void {
    // Never below zero, so a stray extra release cannot raise the cap.
    if (this.#inFlight > 0) this.#inFlight--;
  }
}
