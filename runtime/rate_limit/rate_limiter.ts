/**
 * The rate-limit interceptor: token buckets (global, per method or service,
 * per caller) and caps on calls in flight (global, per method or service),
 * built from `rateLimit` in the config.
 * @module
 */
import type { ResolvedRateLimit } from "../config/mod.ts";
import { RpcError, Status } from "../core/errors.ts";
import type { ServerCall } from "../core/context.ts";
import type { CallHandler, Interceptor } from "../core/interceptor.ts";
import { type CallerKeyOf, createCallerKey } from "./caller_key.ts";
import { KeyedBuckets } from "./keyed_buckets.ts";
import {
  type LimitBucket,
  limitBucket,
  type LimitCap,
  limitCap,
  MethodLimits,
  type MethodPlan,
  type RateLimitName,
} from "./_method_limits.ts";
import { type Clock, monotonicClock, type RateBucket, TokenBucket } from "../util/token_bucket.ts";
import { processClock, type SharedLimits } from "./shared_limits.ts";

export type { RateLimitName };

/** Options for {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /**
   * Calls that bypass every limit (health checks, reflection). Asked once
   * per method, on its first call, and the answer is cached by method path:
   * it must depend only on `call.method` / `call.service`.
   */
  exempt: (call: ServerCall) => boolean;
  /** Called for each rejected call, before the error is thrown (for metrics). */
  onReject?: (limit: RateLimitName, call: ServerCall) => void;
  /** Monotonic milliseconds; `performance.now()` by default. Tests pass a fake. */
  clock?: Clock;
  /**
   * The process-wide state of `global`, `perMethod` and `maxConcurrent` when
   * this is one of several workers (shared_limits.ts); times are then on
   * the clock all threads share.
   */
  shared?: SharedLimits | null;
}

/**
 * Builds the rate-limit interceptor, or returns null when `config` sets no
 * limit, so an unlimited server pays nothing per call.
 *
 * Checks run in this order: concurrency (global, then method), then token
 * buckets (global, method, caller). A rejected call costs nothing: every
 * check looks before anything is taken, and only a call that passes them
 * all takes its tokens and its slots. (JavaScript runs the checks and the
 * takes without a break, so no other call can slip in between.)
 *
 * `perMethod` keys name a method (`/pkg.Service/Method`) or a whole service
 * (`pkg.Service`); the method's own key wins. A service key is ONE bucket
 * (or one cap) shared by all the service's methods, not one per method.
 *
 * With `perKey.key: header:<name>`, calls that lack the header share one
 * "anonymous" bucket (kept apart from the `maxKeys` buckets and never
 * evicted), so leaving the header off does not escape the limit. Header
 * values are taken on trust: a caller can send another's key.
 *
 * A concurrency slot is held until the rest of the chain settles, whether it
 * succeeds, fails or is cancelled; a handler that ignores cancellation keeps
 * its slot until it returns, because its work is still running.
 *
 * Rejections are `RESOURCE_EXHAUSTED`; token-bucket rejections carry a
 * `retry-after-ms` trailer.
 *
 * @example
 * ```ts ignore
 * const limiter = createRateLimiter(config.rateLimit, {
 *   exempt: (call) => call.service === "grpc.health.v1.Health",
 *   onReject: (limit, call) => metrics.onRateLimitReject(limit, call.service, call.methodName),
 * });
 * const interceptors = limiter ? [limiter] : [];
 * ```
 */
export function createRateLimiter(
  config: ResolvedRateLimit,
  options: RateLimiterOptions,
): Interceptor | null {
  return RateLimiter.any(config) ? new RateLimiter(config, options).interceptor : null;
}

/**
 * The limits of {@link createRateLimiter} and the checks that apply them.
 * Everything a call needs is built here or on a method's first call, so
 * the per-call path allocates nothing and adds no promise of its own.
 */
export class RateLimiter {
  readonly #clock: Clock;
  /** Kept whole: `exempt` is called as `options.exempt(call)`, as it always was. */
  readonly #options: RateLimiterOptions;
  readonly #onReject: ((limit: RateLimitName, call: ServerCall) => void) | undefined;
  readonly #globalBucket: LimitBucket | null;
  readonly #globalCap: LimitCap | null;
  readonly #methods: MethodLimits;
  /** Each method's plan by path, made on its first call. */
  readonly #plans = new Map<string, MethodPlan>();
  // perKey: how a call maps to its caller, the callers' buckets, and the
  // one bucket shared by calls without a key.
  readonly #keyOf: CallerKeyOf | null;
  readonly #keyed: KeyedBuckets | null;
  readonly #anonymous: TokenBucket | null;
  readonly #keyLabel: string;

  /** Builds every bucket and cap `config` sets (all but the per-caller ones, made per key). */
  constructor(config: ResolvedRateLimit, options: RateLimiterOptions) {
    const { maxConcurrent, perKey } = config;
    const shared = options.shared ?? null;
    const clock = shared ? processClock : options.clock ?? monotonicClock;
    this.#clock = clock;
    this.#options = options;
    this.#onReject = options.onReject;
    this.#globalBucket = config.global
      ? limitBucket("global", "global", config.global, clock, shared)
      : null;
    this.#globalCap = maxConcurrent.global > 0
      ? limitCap("maxConcurrent.global", "global", maxConcurrent.global, shared)
      : null;
    this.#methods = new MethodLimits(config, clock, this.#globalCap, shared);
    this.#keyOf = perKey ? createCallerKey(perKey.key) : null;
    this.#keyed = perKey ? new KeyedBuckets({ ...perKey, clock }) : null;
    this.#anonymous = perKey ? new TokenBucket(perKey.rate, perKey.burst, clock) : null;
    this.#keyLabel = perKey ? `perKey ${perKey.key}` : "";
  }

  /** Whether `config` sets any limit; without one, a limiter would only cost time. */
  static any(config: ResolvedRateLimit): boolean {
    return !!config.global || !!config.perKey || config.maxConcurrent.global > 0 ||
      MethodLimits.any(config);
  }

  /**
   * The interceptor. Each handler it wraps gets one function, made once when
   * the chain is built. Not async: a call that passes adds no promise or
   * microtask of its own, and a rejection still comes back as a rejected
   * promise, never a throw.
   */
  readonly interceptor: Interceptor = (next) => {
    const rateLimit: CallHandler = (call) => {
      try {
        return this.#admit(next, call);
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return rateLimit;
  };

  /** Checks every limit, then takes from them all and runs `next`; throws a rejection. */
  #admit(next: CallHandler, call: ServerCall): Promise<void> {
    const plan = this.#plans.get(call.method) ?? this.#planFor(call);
    if (plan.exempt) return next(call);

    const globalCap = this.#globalCap;
    const methodCap = plan.cap;
    if (globalCap && !globalCap.limit.hasRoom()) {
      this.#reject(globalCap.name, call, globalCap.error);
    }
    if (methodCap && !methodCap.limit.hasRoom()) {
      this.#reject(methodCap.name, call, methodCap.error);
    }

    const globalBucket = this.#globalBucket;
    const methodBucket = plan.bucket;
    const keyOf = this.#keyOf;
    if (globalBucket || methodBucket || keyOf) {
      const now = this.#clock();
      if (globalBucket && !globalBucket.bucket.canTake(now)) {
        this.#rejectBucket(globalBucket.name, globalBucket.label, globalBucket.bucket, now, call);
      }
      if (methodBucket && !methodBucket.bucket.canTake(now)) {
        this.#rejectBucket(methodBucket.name, methodBucket.label, methodBucket.bucket, now, call);
      }
      let callerBucket: TokenBucket | null = null;
      if (keyOf) {
        const key = keyOf(call);
        callerBucket = key === null ? this.#anonymous! : this.#keyed!.get(key);
        if (!callerBucket.canTake(now)) {
          this.#rejectBucket("perKey", this.#keyLabel, callerBucket, now, call);
        }
      }
      // Every bucket has a token: take them all.
      globalBucket?.bucket.tryTake(now);
      methodBucket?.bucket.tryTake(now);
      callerBucket?.tryTake(now);
    }

    if (!globalCap && !methodCap) return next(call);
    globalCap?.limit.tryAcquire();
    methodCap?.limit.tryAcquire();
    const [onFulfilled, onRejected] = plan.released;
    let result: Promise<void>;
    try {
      result = next(call);
    } catch (error) {
      return onRejected(error);
    }
    return result.then(onFulfilled, onRejected);
  }

  #planFor(call: ServerCall): MethodPlan {
    const plan = this.#methods.planFor(call, this.#options.exempt(call));
    this.#plans.set(call.method, plan);
    return plan;
  }

  #reject(limit: RateLimitName, call: ServerCall, error: RpcError): never {
    // Called bare, not with the limiter as `this`.
    const onReject = this.#onReject;
    onReject?.(limit, call);
    throw error;
  }

  #rejectBucket(
    name: RateLimitName,
    label: string,
    bucket: RateBucket,
    now: number,
    call: ServerCall,
  ): never {
    const ms = bucket.retryAfterMs(now);
    const error = new RpcError(
      Status.RESOURCE_EXHAUSTED,
      `rate limit "${label}" exceeded (${bucket.rate}/s, burst ${bucket.burst}); retry after ${ms}ms`,
      { metadata: { "retry-after-ms": String(ms) } },
    );
    return this.#reject(name, call, error);
  }
}
