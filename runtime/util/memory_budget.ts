/**
 * The process's memory budget: one counter of the bytes that clients make
 * the server hold (partial messages, requests awaiting dispatch, decoded
 * requests by their estimated cost, inflated requests, responses parked
 * behind closed flow-control windows). Each of those was a way for a few
 * clients to take the process past its container's limit or V8's heap
 * limit (issue 19); with one counter, what does not fit is refused
 * (RESOURCE_EXHAUSTED) instead of allocated.
 *
 * Small amounts are counted but never refused: a health check or a
 * 100-byte call must still be served while the budget is full, and the
 * budget is set well below the real limits so that they have room.
 * @module
 */

/** Amounts under this are always granted (and still counted). */
export const ALWAYS_GRANTED_BYTES = 64 * 1024;

/** A counter of held bytes against a limit. */
export class MemoryBudget {
  /** The budget, in bytes. */
  readonly limit: number;
  /**
   * While true, every amount of {@link ALWAYS_GRANTED_BYTES} or more is
   * refused, whatever is free: the memory-limit guard sets it while the
   * process is near its limit (overload/memory_guard.ts).
   */
  refuseLarge = false;
  #used = 0;
  #peak = 0;
  #refused = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes currently held. */
  get used(): number {
    return this.#used;
  }

  /** The most ever held at once. */
  get peak(): number {
    return this.#peak;
  }

  /** How many requests for memory were refused. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Takes `bytes` if they fit (or are small); false, taking nothing, if
   * they do not. Every true must be matched by a `give` of the same amount.
   */
  take(bytes: number): boolean {
    const used = this.#used + bytes;
    if ((used > this.limit || this.refuseLarge) && bytes >= ALWAYS_GRANTED_BYTES) {
      this.#refused++;
      return false;
    }
    this.#used = used;
    if (used > this.#peak) this.#peak = used;
    return true;
  }

  /** Counts `bytes` that are held whatever the budget says (bounded elsewhere). */
  charge(bytes: number): void {
    this.#used += bytes;
    if (this.#used > this.#peak) this.#peak = this.#used;
  }

  /** Gives back bytes taken (or charged) earlier. */
  give(bytes: number): void {
    this.#used -= bytes;
  }
}

/** A budget too large to ever refuse: for transports and tests that run without one. */
export function unlimitedBudget(): MemoryBudget {
  return new MemoryBudget(Number.MAX_SAFE_INTEGER);
}
