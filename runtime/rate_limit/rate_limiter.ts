/**
 * The rate-limit interceptor: token buckets (global, per method or service,
 * per caller) and caps on calls in flight (global, per method or service),
 * built from `rateLimit` in the config.
 * @module
 */
import type { ResolvedBucket, ResolvedRateLimit } from "../config/mod.ts";
import { RpcError, Status } from "../core/errors.ts";
import type { ServerCall } from "../core/context.ts";
import type { CallHandler, Interceptor } from "../core/interceptor.ts";
import { createCallerKey } from "./caller_key.ts";
import { ConcurrencyLimit } from "./concurrency.ts";
import { KeyedBuckets } from "./keyed_buckets.ts";
import { type Clock, monotonicClock, TokenBucket } from "../util/token_bucket.ts";

/** The limit that rejected a call, as the `limit` label of the rejection metric. */
export type RateLimitName =
  | "global"
  | "perMethod"
  | "perKey"
  | "maxConcurrent.global"
  | "maxConcurrent.perMethod";

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
}

/** A bucket with what a rejection reports about it. */
interface _Bucket {
  name: RateLimitName;
  label: string;
  bucket: TokenBucket;
}

/** A concurrency cap with the error it rejects with (built once: the message is fixed). */
interface _Cap {
  name: RateLimitName;
  limit: ConcurrencyLimit;
  error: RpcError;
}

/** What applies to one method, worked out on its first call. */
interface _Plan {
  exempt: boolean;
  bucket: _Bucket | null;
  cap: _Cap | null;
  /** Gives back this plan's concurrency slots; settles the call's promise as it was. */
  released: [onFulfilled: () => void, onRejected: (error: unknown) => never];
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
  const { maxConcurrent } = config;
  const methodBucketKeys = Object.keys(config.perMethod);
  const methodCapKeys = Object.keys(maxConcurrent.perMethod);
  if (
    !config.global && !config.perKey && maxConcurrent.global <= 0 &&
    methodBucketKeys.length === 0 && methodCapKeys.length === 0
  ) return null;

  const clock = options.clock ?? monotonicClock;
  const onReject = options.onReject;
  const bucket = (name: RateLimitName, label: string, b: ResolvedBucket): _Bucket => ({
    name,
    label,
    bucket: new TokenBucket(b.rate, b.burst, clock),
  });
  const cap = (name: RateLimitName, label: string, max: number): _Cap => ({
    name,
    limit: new ConcurrencyLimit(max),
    error: new RpcError(
      Status.RESOURCE_EXHAUSTED,
      `concurrency limit "${label}" reached (${max} in flight)`,
    ),
  });

  const globalBucket = config.global ? bucket("global", "global", config.global) : null;
  const globalCap = maxConcurrent.global > 0
    ? cap("maxConcurrent.global", "global", maxConcurrent.global)
    : null;
  // One bucket and one cap per config key, made up front: a service key's
  // bucket is shared by every method that resolves to it.
  const methodBuckets = new Map(
    methodBucketKeys.map((k) => [k, bucket("perMethod", `perMethod ${k}`, config.perMethod[k])]),
  );
  const methodCaps = new Map(
    methodCapKeys.map((k) => [
      k,
      cap("maxConcurrent.perMethod", `perMethod ${k}`, maxConcurrent.perMethod[k]),
    ]),
  );

  const perKey = config.perKey;
  const keyOf = perKey ? createCallerKey(perKey.key) : null;
  const keyed = perKey ? new KeyedBuckets({ ...perKey, clock }) : null;
  const anonymous = perKey ? new TokenBucket(perKey.rate, perKey.burst, clock) : null;
  const keyLabel = perKey ? `perKey ${perKey.key}` : "";

  const plans = new Map<string, _Plan>();
  function planFor(call: ServerCall): _Plan {
    const methodCap = methodCaps.get(call.method) ?? methodCaps.get(call.service) ?? null;
    // Made once per method, not per call: then() with these allocates no closure.
    const release = () => {
      globalCap?.limit.release();
      methodCap?.limit.release();
    };
    const plan: _Plan = {
      exempt: options.exempt(call),
      bucket: methodBuckets.get(call.method) ?? methodBuckets.get(call.service) ?? null,
      cap: methodCap,
      released: [release, (error) => {
        release();
        throw error;
      }],
    };
    plans.set(call.method, plan);
    return plan;
  }

  function reject(limit: RateLimitName, call: ServerCall, error: RpcError): never {
    onReject?.(limit, call);
    throw error;
  }

  function rejectBucket(
    name: RateLimitName,
    label: string,
    bucket: TokenBucket,
    now: number,
    call: ServerCall,
  ): never {
    const ms = bucket.retryAfterMs(now);
    const error = new RpcError(
      Status.RESOURCE_EXHAUSTED,
      `rate limit "${label}" exceeded (${bucket.rate}/s, burst ${bucket.burst}); retry after ${ms}ms`,
      { metadata: { "retry-after-ms": String(ms) } },
    );
    return reject(name, call, error);
  }

  // Not async: a call that passes adds no promise or microtask of its own.
  return (next) => {
    const admit = admitter(next);
    return function rateLimit(call) {
      try {
        return admit(call);
      } catch (error) {
        return Promise.reject(error);
      }
    };
  };

  function admitter(next: CallHandler): CallHandler {
    return function admit(call) {
      const plan = plans.get(call.method) ?? planFor(call);
      if (plan.exempt) return next(call);

      const methodCap = plan.cap;
      if (globalCap && !globalCap.limit.hasRoom()) reject(globalCap.name, call, globalCap.error);
      if (methodCap && !methodCap.limit.hasRoom()) reject(methodCap.name, call, methodCap.error);

      const methodBucket = plan.bucket;
      if (globalBucket || methodBucket || keyOf) {
        const now = clock();
        if (globalBucket && !globalBucket.bucket.canTake(now)) {
          rejectBucket(globalBucket.name, globalBucket.label, globalBucket.bucket, now, call);
        }
        if (methodBucket && !methodBucket.bucket.canTake(now)) {
          rejectBucket(methodBucket.name, methodBucket.label, methodBucket.bucket, now, call);
        }
        let callerBucket: TokenBucket | null = null;
        if (keyOf) {
          const key = keyOf(call);
          callerBucket = key === null ? anonymous! : keyed!.get(key);
          if (!callerBucket.canTake(now)) rejectBucket("perKey", keyLabel, callerBucket, now, call);
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
    };
  }
}
