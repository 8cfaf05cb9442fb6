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

// Bucket layout: Float64 origin (processClock ms) at byte 0, then the BigInt64 "theoretical
// arrival time" in ns since the origin at byte 8 (see SharedTokenBucket).
const BUCKET_BYTES = 16;
// Far enough ahead for any rate and burst the config allows, and far from 2^63.
const MAX_AHEAD_NS = 2n ** 60n;

/** The buffers for every process-wide limit in `config`, for `workers` workers. */
export function createSharedLimits(
  config: ResolvedRateLimit,
  workers: number,
): Record<string, SharedArrayBuffer> {
  const buffers: Record<string, SharedArrayBuffer> = {};
  const bucket = (label: string) => {
    // Written before any worker sees it; a tat of 0 (the origin) is a full bucket.
    const buffer = new SharedArrayBuffer(BUCKET_BYTES);
    new Float64Array(buffer, 0, 1)[0] = processClock();
    buffers[`bucket ${label}`] = buffer;
  };
  const cap = (label: string) => {
    buffers[`cap ${label}`] = new SharedArrayBuffer(4 * workers);
  };
  if (config.global) bucket("global");
  for (const key of Object.keys(config.perMethod)) bucket(`perMethod ${key}`);
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

/**
 * A token bucket whose tokens every worker takes from. Same contract as
 * TokenBucket. It keeps one number, the "theoretical arrival time" of the
 * generic cell rate algorithm: each token taken moves it one interval
 * (1/rate) later, never from earlier than now, and a take is refused when
 * that would put it more than `burst` intervals ahead of now. One
 * compare-and-swap updates it, so there is no lock for a thread descheduled
 * or terminated inside it to hold (a spin lock with a takeover let two
 * threads in at once when the holder was preempted, and gave one token too
 * many under load).
 */
export class SharedTokenBucket implements RateBucket {
  readonly rate: number;
  readonly burst: number;
  readonly #origin: number;
  readonly #tat: BigInt64Array;
  readonly #intervalNs: bigint;
  readonly #aheadNs: bigint;

  constructor(buffer: SharedArrayBuffer, rate: number, burst: number) {
    this.rate = rate;
    this.burst = burst;
    this.#origin = new Float64Array(buffer, 0, 1)[0];
    this.#tat = new BigInt64Array(buffer, 8, 1);
    const interval = BigInt(Math.max(1, Math.round(1e9 / rate)));
    const ahead = BigInt(Math.min(Number(MAX_AHEAD_NS), Math.round((1e9 * burst) / rate)));
    this.#aheadNs = ahead < MAX_AHEAD_NS ? ahead : MAX_AHEAD_NS;
    this.#intervalNs = interval < this.#aheadNs ? interval : this.#aheadNs;
  }

  /** Tokens now. `now` is ignored: the state's times are on {@link processClock}. */
  tokens(_now?: number): number {
    const now = this.#nowNs();
    const tat = Atomics.load(this.#tat, 0);
    const used = tat > now ? tat - now : 0n;
    return Number(this.#aheadNs - used) / Number(this.#intervalNs);
  }

  canTake(_now?: number): boolean {
    return this.tokens() >= 1;
  }

  tryTake(_now?: number): boolean {
    const cell = this.#tat;
    for (;;) {
      const now = this.#nowNs();
      const tat = Atomics.load(cell, 0);
      const next = (tat > now ? tat : now) + this.#intervalNs;
      if (next - now > this.#aheadNs) return false;
      if (Atomics.compareExchange(cell, 0, tat, next) === tat) return true;
    }
  }

  retryAfterMs(_now?: number): number {
    const now = this.#nowNs();
    const tat = Atomics.load(this.#tat, 0);
    const wait = (tat > now ? tat : now) + this.#intervalNs - now - this.#aheadNs;
    return wait <= 0n ? 0 : Math.max(1, Math.ceil(Number(wait) / 1e6));
  }

  #nowNs(): bigint {
    return BigInt(Math.round((processClock() - this.#origin) * 1e6));
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
