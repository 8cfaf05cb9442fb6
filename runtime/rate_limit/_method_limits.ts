/**
 * The rate limiter's tables: its named buckets and caps, the per-method
 * ones keyed by `perMethod` config key, and the plan each method gets on
 * its first call.
 * @module
 */
import type { ResolvedBucket, ResolvedRateLimit } from "../config/mod.ts";
import { RpcError, Status } from "../core/errors.ts";
import type { ServerCall } from "../core/context.ts";
import { ConcurrencyLimit } from "./concurrency.ts";
import { type Clock, type RateBucket, TokenBucket } from "../util/token_bucket.ts";
import { SharedConcurrencyLimit, type SharedLimits, SharedTokenBucket } from "./shared_limits.ts";

/** The limit that rejected a call, as the `limit` label of the rejection metric. */
export type RateLimitName =
  | "global"
  | "perMethod"
  | "perKey"
  | "maxConcurrent.global"
  | "maxConcurrent.perMethod";

/** A bucket with what a rejection reports about it. */
export interface LimitBucket {
  name: RateLimitName;
  label: string;
  bucket: RateBucket;
}

/** A concurrency cap with the error it rejects with (built once: the message is fixed). */
export interface LimitCap {
  name: RateLimitName;
  limit: ConcurrencyLimit | SharedConcurrencyLimit;
  error: RpcError;
}

/** What applies to one method, worked out on its first call. */
export interface MethodPlan {
  exempt: boolean;
  bucket: LimitBucket | null;
  cap: LimitCap | null;
  /** Gives back this plan's concurrency slots; settles the call's promise as it was. */
  released: [onFulfilled: () => void, onRejected: (error: unknown) => never];
}

/** A `rate`/`burst` bucket named for rejections. */
export function limitBucket(
  name: RateLimitName,
  label: string,
  b: ResolvedBucket,
  clock: Clock,
  shared: SharedLimits | null = null,
): LimitBucket {
  const buffer = shared?.buffers[`bucket ${label}`];
  const bucket = buffer
    ? new SharedTokenBucket(buffer, b.rate, b.burst)
    : new TokenBucket(b.rate, b.burst, clock);
  return { name, label, bucket };
}

/** A cap of `max` calls in flight, with its rejection. */
export function limitCap(
  name: RateLimitName,
  label: string,
  max: number,
  shared: SharedLimits | null = null,
): LimitCap {
  const buffer = shared?.buffers[`cap ${label}`];
  return {
    name,
    limit: buffer
      ? new SharedConcurrencyLimit(buffer, shared!.slot, max)
      : new ConcurrencyLimit(max),
    error: new RpcError(
      Status.RESOURCE_EXHAUSTED,
      `concurrency limit "${label}" reached (${max} in flight)`,
    ),
  };
}

/**
 * The `perMethod` buckets and `maxConcurrent.perMethod` caps. Keys name a
 * method (`/pkg.Service/Method`) or a whole service (`pkg.Service`); the
 * method's own key wins. One bucket and one cap per config key, made up
 * front: a service key's bucket is shared by every method that resolves
 * to it.
 */
export class MethodLimits {
  readonly #buckets: Map<string, LimitBucket>;
  readonly #caps: Map<string, LimitCap>;
  /** Released with a method's own cap, so its plan frees both slots at once. */
  readonly #globalCap: LimitCap | null;

  /** Builds every per-method bucket and cap `config` sets. */
  constructor(
    config: ResolvedRateLimit,
    clock: Clock,
    globalCap: LimitCap | null,
    shared: SharedLimits | null = null,
  ) {
    const perMethod = config.maxConcurrent.perMethod;
    this.#buckets = new Map(
      Object.keys(config.perMethod).map((k) => [
        k,
        limitBucket("perMethod", `perMethod ${k}`, config.perMethod[k], clock, shared),
      ]),
    );
    this.#caps = new Map(
      Object.keys(perMethod).map((k) => [
        k,
        limitCap("maxConcurrent.perMethod", `perMethod ${k}`, perMethod[k], shared),
      ]),
    );
    this.#globalCap = globalCap;
  }

  /** Whether `config` sets any per-method bucket or cap. */
  static any(config: ResolvedRateLimit): boolean {
    return Object.keys(config.perMethod).length > 0 ||
      Object.keys(config.maxConcurrent.perMethod).length > 0;
  }

  /** The plan for `call`'s method; `exempt` is the limiter's answer for that method. */
  planFor(call: ServerCall, exempt: boolean): MethodPlan {
    const globalCap = this.#globalCap;
    const methodCap = this.#caps.get(call.method) ?? this.#caps.get(call.service) ?? null;
    // Made once per method, not per call: then() with these allocates no closure.
    const release = () => {
      globalCap?.limit.release();
      methodCap?.limit.release();
    };
    return {
      exempt,
      bucket: this.#buckets.get(call.method) ?? this.#buckets.get(call.service) ?? null,
      cap: methodCap,
      released: [release, (error) => {
        release();
        throw error;
      }],
    };
  }
}
