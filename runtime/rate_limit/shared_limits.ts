/**
 * Rate and concurrency limits shared by the workers of one process
 * (`server.workers` > 1), so that `rateLimit.global`, `perMethod` and
 * `maxConcurrent` hold for the process as a whole, as they do with one
 * event loop. The state lives in SharedArrayBuffers the supervisor makes
 * once (they outlive a worker's restart); each worker reads and updates it
 * with Atomics, which costs a few tens of nanoseconds per call and no
 * message between threads. `perKey` buckets stay per worker: their keys
 * come and go with callers (docs/workers.md).
 * @module
 */
import type { ResolvedRateLimit } from "../config/mod.ts";
import type { RateBucket } from "../util/token_bucket.ts";

/** The shared state, by limit: `bucket <label>` and `cap <label>`. Crosses threads by postMessage. */
export interface SharedLimits {
  readonly buffers: Readonly<Record<string, SharedArrayBuffer>>;
  /** Which slot of each cap's counters this worker counts in. */
  readonly slot: number;
}

/** A clock every thread of the process agrees on (each has its own performance.now() origin). */
export const processClock = (): number => performance.timeOrigin + performance.now();

// Bucket layout: Int32 lock at byte 0, then Float64 tokens and last refill at bytes 8 and 16.
const BUCKET_BYTES = 24;
// A lock held longer than this many spins belongs to a worker that was terminated while
// holding it (the only way a holder stops inside the few statements it guards): take it over.
const MAX_SPINS = 100_000;
// See token_bucket.ts: refills add fractions, and 0.9999999 must count as a token.
const EPSILON = 1e-9;

/** The buffers for every process-wide limit in `config`, for `workers` workers. */
export function createSharedLimits(
  config: ResolvedRateLimit,
  workers: number,
): Record<string, SharedArrayBuffer> {
  const buffers: Record<string, SharedArrayBuffer> = {};
  const bucket = (label: string, burst: number) => {
    const buffer = new SharedArrayBuffer(BUCKET_BYTES);
    const state = new Float64Array(buffer, 8, 2);
    state[0] = burst;
    state[1] = processClock();
    buffers[`bucket ${label}`] = buffer;
  };
  const cap = (label: string) => {
    buffers[`cap ${label}`] = new SharedArrayBuffer(4 * workers);
  };
  if (config.global) bucket("global", config.global.burst);
  for (const [key, limit] of Object.entries(config.perMethod)) {
    bucket(`perMethod ${key}`, limit.burst);
  }
  if (config.maxConcurrent.global > 0) cap("global");
  for (const key of Object.keys(config.maxConcurrent.perMethod)) cap(`perMethod ${key}`);
  return buffers;
}

/** Zeroes `slot`'s in-flight counts: its worker died with calls in flight that will never end. */
export function resetSlot(buffers: Record<string, SharedArrayBuffer>, slot: number): void {
  for (const [name, buffer] of Object.entries(buffers)) {
    if (name.startsWith("cap ")) Atomics.store(new Int32Array(buffer), slot, 0);
  }
}

/** A token bucket whose tokens every worker takes from. Same contract as TokenBucket. */
export class SharedTokenBucket implements RateBucket {
  readonly rate: number;
  readonly burst: number;
  readonly #lock: Int32Array;
  readonly #state: Float64Array;

  constructor(buffer: SharedArrayBuffer, rate: number, burst: number) {
    this.rate = rate;
    this.burst = burst;
    this.#lock = new Int32Array(buffer, 0, 1);
    this.#state = new Float64Array(buffer, 8, 2);
  }

  /** Tokens now. `now` is ignored: the state's times are on {@link processClock}. */
  tokens(_now?: number): number {
    return this.#locked(() => this.#refill());
  }

  canTake(_now?: number): boolean {
    return this.tokens() >= 1 - EPSILON;
  }

  tryTake(_now?: number): boolean {
    return this.#locked(() => {
      const tokens = this.#refill();
      if (tokens < 1 - EPSILON) return false;
      this.#state[0] = Math.max(0, tokens - 1);
      return true;
    });
  }

  retryAfterMs(_now?: number): number {
    const tokens = this.tokens();
    if (tokens >= 1 - EPSILON) return 0;
    return Math.max(1, Math.ceil(((1 - tokens) * 1000) / this.rate));
  }

  #refill(): number {
    const state = this.#state;
    const now = processClock();
    if (now > state[1]) {
      state[0] = Math.min(this.burst, state[0] + ((now - state[1]) * this.rate) / 1000);
      state[1] = now;
    }
    return state[0];
  }

  #locked<T>(fn: () => T): T {
    const lock = this.#lock;
    for (let spins = 0; Atomics.compareExchange(lock, 0, 0, 1) !== 0; spins++) {
      if (spins >= MAX_SPINS) break;
    }
    try {
      return fn();
    } finally {
      Atomics.store(lock, 0, 0);
    }
  }
}

/**
 * A cap on calls in flight across workers. Each worker counts in its own
 * slot, so a worker that dies with calls in flight can be zeroed
 * ({@link resetSlot}) without losing the others' counts.
 */
export class SharedConcurrencyLimit {
  readonly max: number;
  readonly #counts: Int32Array;
  readonly #slot: number;

  constructor(buffer: SharedArrayBuffer, slot: number, max: number) {
    this.max = max;
    this.#counts = new Int32Array(buffer);
    this.#slot = slot;
  }

  get inFlight(): number {
    let sum = 0;
    for (let i = 0; i < this.#counts.length; i++) sum += Atomics.load(this.#counts, i);
    return sum;
  }

  hasRoom(): boolean {
    return this.inFlight < this.max;
  }

  /** Takes a place if one is free; two workers may both take the last one (one call over, at most one per worker). */
  tryAcquire(): boolean {
    if (!this.hasRoom()) return false;
    Atomics.add(this.#counts, this.#slot, 1);
    return true;
  }

  release(): void {
    if (Atomics.load(this.#counts, this.#slot) > 0) Atomics.sub(this.#counts, this.#slot, 1);
  }
}
