/**
 * One token bucket per caller key, with a bound on how many are kept.
 * @module
 */
import { type Clock, monotonicClock, TokenBucket } from "./token_bucket.ts";

/**
 * Token buckets by key, at most `maxKeys` of them; the least recently used
 * is evicted first. A `Map` iterates in insertion order, so moving a key to
 * the end on every touch (delete + set) keeps the oldest first, and both
 * the touch and the eviction are O(1).
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
  readonly #buckets = new Map<string, TokenBucket>();

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
    return this.#buckets.size;
  }

  /** Whether `key` has a bucket (does not count as a use). */
  has(key: string): boolean {
    return this.#buckets.has(key);
  }

  /** The bucket for `key`, created full if missing; marks it most recently used. */
  get(key: string): TokenBucket {
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key);
    } else {
      bucket = new TokenBucket(this.rate, this.burst, this.#clock);
      if (this.#buckets.size >= this.maxKeys) {
        // The first key in iteration order is the least recently used.
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
    }
    this.#buckets.set(key, bucket);
    return bucket;
  }
}
