/**
 * Rate limiting: token buckets and concurrency caps, and the interceptor
 * that applies `rateLimit` from the config to every call.
 *
 * @example
 * ```ts ignore
 * import { createRateLimiter } from "./mod.ts";
 * const limiter = createRateLimiter(config.rateLimit, { exempt: () => false });
 * ```
 * @module
 */
export { type Clock, monotonicClock, TokenBucket } from "../util/token_bucket.ts";
export { KeyedBuckets } from "./keyed_buckets.ts";
export { ConcurrencyLimit } from "./concurrency.ts";
export { type CallerKeyOf, createCallerKey, peerHost } from "./caller_key.ts";
export { createRateLimiter, type RateLimiterOptions, type RateLimitName } from "./rate_limiter.ts";
