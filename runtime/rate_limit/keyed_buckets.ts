/**
 * One token bucket per caller key, with a bound on how many are kept.
 * @module
 */
import { type Clock, monotonicClock, TokenBucket } from "../util/token_bucket.ts";

/**
 * Token buckets by key, at most `maxKeys` of them; the least recently used
 * is evicted first. The buckets sit on a doubly linked list, most recent
 * first: a touch relinks one entry and evicting takes the tail, both O(1)
 * and allocation-free. (Moving a key to the end of the `Map` instead, with
 * delete + set, reallocates the map's table over and over: a measurable
 * share of the garbage per call at 100k calls/s.)
 *
 * An evicted caller that comes back gets a new, full bucket. That is the
 * price of bounded memory: with more active callers than `maxKeys`, the
 * quietest ones are forgotten first.
 *
 * @example
 * ```ts
 * import { KeyedBuckets } from "./keyed_buckets.ts";
 * const buckets = new KeyedBuckets({ rate: 5, burst: 10, maxKeys: 1000 });
 * const allowed = buckets.get("10.0.0.7").tryTake();
 * ```
 */
export class KeyedBuckets {
  /** Tokens per second for each key. */
  readonly rate: number;
  /** Capacity of each key's bucket. */
  readonly burst: number;
  /** The most buckets kept. */
  readonly maxKeys: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, _Entry>();
  /** Most recently used; its `older` chain ends at {@link #oldest}. */
  #newest: _Entry | null = null;
  #oldest: _Entry | null = null;

  /** Every key gets its own `rate`/`burst` bucket; at most `maxKeys` are kept. */
  constructor(options: { rate: number; burst: number; maxKeys: number; clock?: Clock }) {
    if (!(options.maxKeys >= 1)) {
      throw new RangeError(
        `Cannot create KeyedBuckets: maxKeys must be >= 1, got ${options.maxKeys}`,
      );
    }
    this.rate = options.rate;
    this.burst = options.burst;
    this.maxKeys = options.maxKeys;
    this.#clock = options.clock ?? monotonicClock;
  }

  /** Buckets kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `key` has a bucket (does not count as a use). */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The bucket for `key`, created full if missing; marks it most recently used. */
  get(key: string): TokenBucket {
    let entry = this.#entries.get(key);
    if (entry) {
      if (entry !== this.#newest) {
        this.#unlink(entry);
        this.#pushNewest(entry);
      }
      return entry.bucket;
    }
    if (this.#entries.size >= this.maxKeys) {
      const oldest = this.#oldest!;
      this.#unlink(oldest);
      this.#entries.delete(oldest.key);
    }
    entry = {
      key,
      bucket: new TokenBucket(this.rate, this.burst, this.#clock),
      newer: null,
      older: null,
    };
    this.#entries.set(key, entry);
    this.#pushNewest(entry);
    return entry.bucket;
  }

  #unlink(entry: _Entry): void {
    if (entry.newer) entry.newer.older = entry.older;
    else this.#newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else this.#oldest = entry.newer;
    entry.newer = entry.older = null;
  }

  #pushNewest(entry: _Entry): void {
    entry.older = this.#newest;
    if (this.#newest) this.#newest.newer = entry;
    else this.#oldest = entry;
    this.#newest = entry;
  }
}

/** A bucket on the recency list. */
interface _Entry {
  readonly key: string;
  readonly bucket: TokenBucket;
  newer: _Entry | null;
  older: _Entry | null;
}
