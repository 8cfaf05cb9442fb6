/**
 * The adaptive circuit breaker of one dependency: Google SRE's client-side
 * throttling ("Handling Overload"), shaped like go-zero's `googleBreaker`.
 *
 * Over a rolling window the breaker counts `requests` (attempts it let
 * through that finished, plus attempts it rejected) and `accepts` (attempts
 * the dependency did not fail). It rejects a new attempt with probability
 *
 *     p = max(0, (requests − K × accepts) / (requests + 1))
 *
 * so a healthy dependency is never throttled, and one that fails everything
 * sees only a trickle of probes. Rejected attempts count as requests on
 * purpose: while the dependency stays down, `p` stays near 1 however few
 * calls go out. Three refinements:
 *
 * - Nothing is rejected while the window holds fewer than `minRequests`
 *   requests: a handful of calls says too little to shed any (Kratos's
 *   `request`; go-zero subtracts its `protection` from requests instead,
 *   which lets that many through per window for ever: 12 % at 20 calls/s).
 * - Forced pass (go-zero): an attempt goes through whenever none did for
 *   1 s, so a dependency that recovered is noticed at once, not by luck.
 * - Fast recovery (go-zero): `p` is scaled by `(buckets − working) / buckets`, where
 *   `working` counts the recent buckets (since the last bucket with a
 *   failure) whose attempts all succeeded. Without it, the accepts needed to
 *   pull `p` down would build up over several windows (each probe that
 *   succeeds lets slightly more through); with it, every good bucket cuts
 *   the rejections by another 1/buckets.
 *
 * go-zero also lowers K towards 1.1 while buckets fail back to back; that
 * only matters while the window still holds accepts from before an outage,
 * and a short window forgets those soon anyway, so it is left out.
 *
 * Defaults (the simulation in breaker_test.ts checks them at 20, 100 and
 * 500 calls/s): a 2 s window in 5 buckets, K = 2, minRequests = 10.
 * - The window sets how fast the breaker reacts: after an outage begins the
 *   first rejection comes once K × accepts fall below requests, at about
 *   window × (1 − 1/K) = 1 s, and fewer than 10 % of calls go out from
 *   about 2 s on. Recovery takes the first probe (≤ 1 s, the forced pass)
 *   plus the working buckets: fewer than 90 % go out for at most ~2.5 s.
 *   The earlier 4 s (with K = 1.5) took about twice as long both ways;
 *   go-zero's 10 s longer still.
 * - While the outage lasts, the calls let through are the forced pass
 *   (1/s) and SRE's 1/(requests + 1) (about 1/window per second): about
 *   6 % at 20 calls/s, 1.3 % at 100/s, 0.3 % at 500/s.
 * - K = 2 (the SRE book's choice) sheds load only once more than half the
 *   calls fail: with 30 % failing, 0.07 % of calls are rejected at 20/s and
 *   none at 100 or 500/s. K = 1.5 (go-zero's) rejected 9.6 % at 20/s and
 *   0.8 % at 100/s: 30 % sits close to its 1 − 1/K = 33 % threshold.
 * - Five buckets: each working bucket cuts the rejections by a fifth, and a
 *   400 ms bucket at low traffic still catches a probe, so recovery is as
 *   fast at 20 calls/s as at 500/s; with 10 or 20 it lags at low rates.
 * - minRequests = 10 in 2 s: below 5 calls/s nothing is ever rejected, too
 *   few calls to judge by and too few to hurt the dependency.
 * @module
 */

/** An attempt is let through when none was for this long, whatever `p` says. */
const FORCE_PASS_MS = 1_000;

/**
 * The defaults of `dependencies.<svc>.circuitBreaker` in the config schema
 * (breaker_test.ts keeps the two equal), plus the bucket count, which is not
 * configurable. The module doc says why these values.
 */
export const BREAKER_DEFAULTS: {
  readonly windowMs: number;
  readonly k: number;
  readonly minRequests: number;
  readonly buckets: number;
} = Object.freeze({ windowMs: 2_000, k: 2, minRequests: 10, buckets: 5 });

/** How an {@link AdaptiveBreaker} counts and decides. */
export interface BreakerOptions {
  /** How far back requests and accepts are counted, in ms. */
  windowMs: number;
  /**
   * Requests allowed per accept before rejecting any: SRE's K, at least 1;
   * 2 rejects only once more than half the attempts fail.
   */
  k: number;
  /** Requests the window must hold before anything is rejected. */
  minRequests: number;
  /** Buckets the window is split into (its time resolution). Default 5. */
  buckets?: number;
  /** Clock in ms; default `performance.now()` (monotonic). */
  now?: () => number;
  /** Uniform random in [0, 1); default `Math.random`. */
  random?: () => number;
}

/**
 * An adaptive circuit breaker. Call {@link allow} before each attempt and,
 * for an attempt it let through, {@link record} its outcome.
 *
 * @example
 * ```ts
 * import { AdaptiveBreaker } from "./breaker.ts";
 * import { isDependencyFailure } from "./failure_codes.ts";
 *
 * const breaker = new AdaptiveBreaker({ windowMs: 2_000, k: 2, minRequests: 10 });
 * if (!breaker.allow()) throw new Error("rejected locally: the dependency is failing");
 * const code = 14; // the attempt's status, e.g. UNAVAILABLE
 * breaker.record(!isDependencyFailure(code));
 * ```
 */
export class AdaptiveBreaker {
  readonly #k: number;
  readonly #minRequests: number;
  readonly #size: number;
  readonly #bucketMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  // Per bucket, a ring indexed by `id mod size`, where id = floor(time / bucketMs).
  readonly #requests: Float64Array;
  readonly #accepts: Float64Array;
  readonly #failures: Float64Array;
  /** Id of the newest bucket; older ones up to `size − 1` back are in the window. */
  #bucketId: number;
  // Window totals, kept as buckets fill and expire so allow() need not sum them.
  #requestsInWindow = 0;
  #acceptsInWindow = 0;
  // The working streak over the closed buckets (all but the newest), recounted when one closes.
  #closedWorking = 0;
  #lastPass: number;
  #rejections = 0;

  constructor(options: BreakerOptions) {
    const { windowMs, k, minRequests, buckets = BREAKER_DEFAULTS.buckets } = options;
    if (!(Number.isFinite(windowMs) && windowMs > 0)) {
      throw new RangeError(`Cannot create breaker: windowMs must be positive, got ${windowMs}`);
    }
    if (!(Number.isFinite(k) && k >= 1)) {
      // Below 1 even a dependency that accepts everything would be throttled.
      throw new RangeError(`Cannot create breaker: k must be at least 1, got ${k}`);
    }
    if (!(minRequests >= 0)) {
      throw new RangeError(
        `Cannot create breaker: minRequests must be 0 or more, got ${minRequests}`,
      );
    }
    if (!(Number.isInteger(buckets) && buckets >= 1)) {
      throw new RangeError(
        `Cannot create breaker: buckets must be a whole number ≥ 1, got ${buckets}`,
      );
    }
    this.#k = k;
    this.#minRequests = minRequests;
    this.#size = buckets;
    this.#bucketMs = windowMs / buckets;
    this.#now = options.now ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
    this.#requests = new Float64Array(buckets);
    this.#accepts = new Float64Array(buckets);
    this.#failures = new Float64Array(buckets);
    const now = this.#now();
    this.#bucketId = Math.floor(now / this.#bucketMs);
    this.#lastPass = now;
  }

  /**
   * True: let this attempt through (the caller then calls {@link record}).
   * False: reject it locally; it is counted in {@link rejections}. Never
   * throws, O(1) (amortized: the window's buckets are recounted at most
   * once per bucket), no allocation.
   */
  allow(): boolean {
    const now = this.#now();
    this.#advance(now);
    const ratio = this.#ratio();
    if (ratio > 0 && now - this.#lastPass <= FORCE_PASS_MS && this.#random() < ratio) {
      this.#rejections++;
      this.#requests[this.#slot(this.#bucketId)]++;
      this.#requestsInWindow++;
      return false;
    }
    this.#lastPass = now;
    return true;
  }

  /**
   * The outcome of an attempt {@link allow} let through: true = accepted by
   * the dependency (OK or a caller-side error code), false = a dependency
   * failure (`isDependencyFailure`).
   */
  record(accepted: boolean): void {
    this.#advance(this.#now());
    const slot = this.#slot(this.#bucketId);
    this.#requests[slot]++;
    this.#requestsInWindow++;
    if (accepted) {
      this.#accepts[slot]++;
      this.#acceptsInWindow++;
    } else {
      this.#failures[slot]++;
    }
  }

  /** Current probability of rejecting an attempt, 0..1 (a gauge; forced passes aside). */
  get dropRatio(): number {
    this.#advance(this.#now());
    return this.#ratio();
  }

  /** Attempts rejected locally so far (a counter). */
  get rejections(): number {
    return this.#rejections;
  }

  /** SRE's formula, scaled down by the recent working buckets. */
  #ratio(): number {
    const requests = this.#requestsInWindow;
    if (requests < this.#minRequests) return 0;
    const ratio = (requests - this.#k * this.#acceptsInWindow) / (requests + 1);
    if (ratio <= 0) return 0;
    const newest = this.#slot(this.#bucketId);
    let working = this.#closedWorking;
    if (this.#failures[newest] > 0) working = 0;
    else if (this.#accepts[newest] > 0) working++;
    return ratio * (this.#size - working) / this.#size;
  }

  /** Moves the window to `now`: empties the buckets that fell out of it. */
  #advance(now: number): void {
    const id = Math.floor(now / this.#bucketMs);
    // `!(>)` also holds for NaN and a clock that went back: stay in the newest bucket.
    if (!(id > this.#bucketId)) return;
    const expired = Math.min(id - this.#bucketId, this.#size);
    for (let step = 1; step <= expired; step++) {
      const slot = this.#slot(this.#bucketId + step);
      this.#requestsInWindow -= this.#requests[slot];
      this.#acceptsInWindow -= this.#accepts[slot];
      this.#requests[slot] = 0;
      this.#accepts[slot] = 0;
      this.#failures[slot] = 0;
    }
    this.#bucketId = id;
    this.#countStreaks();
  }

  /**
   * Counts, oldest to newest over the closed buckets, the buckets with
   * successes and no failure since the last bucket with a failure (as
   * go-zero does: empty buckets neither break nor extend the streak).
   */
  #countStreaks(): void {
    let working = 0;
    for (let id = this.#bucketId - this.#size + 1; id < this.#bucketId; id++) {
      const slot = this.#slot(id);
      if (this.#failures[slot] > 0) working = 0;
      else if (this.#accepts[slot] > 0) working++;
    }
    this.#closedWorking = working;
  }

  #slot(id: number): number {
    const slot = id % this.#size;
    return slot < 0 ? slot + this.#size : slot;
  }
}
