/**
 * BBR's two measurements, as Kratos keeps them (aegis/ratelimit/bbr): the
 * most calls completed per second and the least mean latency, each over the
 * last ten seconds in 100 ms buckets. Their product is the number of calls
 * that can be in flight at full throughput without queueing (Little's law).
 * @module
 */

/** Bucket length. */
export const BUCKET_MS = 100;
/** Buckets kept: ten seconds. */
export const WINDOW_BUCKETS = 100;

/** Completions and latency samples, bucketed by time. */
export class PassWindow {
  /** Completions per second of each closed bucket. */
  readonly #rates = new Float64Array(WINDOW_BUCKETS);
  /** Mean latency (ms) of each closed bucket; NaN when it had no sample. */
  readonly #latencies = new Float64Array(WINDOW_BUCKETS).fill(NaN);
  #next = 0;
  #bucketStart: number;
  #passes = 0;
  #latencySum = 0;
  #latencyCount = 0;
  #maxRate = 0;
  #minLatency = NaN;

  constructor(now: number) {
    this.#bucketStart = now;
  }

  /** One admitted call completed. */
  pass(): void {
    this.#passes++;
  }

  /** One sampled call took `ms` from admission to completion. */
  latency(ms: number): void {
    this.#latencySum += ms;
    this.#latencyCount++;
  }

  /**
   * Closes the current bucket once it is {@link BUCKET_MS} old; true when it
   * did. A bucket the event loop kept open longer (a long synchronous run)
   * counts at its real length, so a rate is never inflated.
   */
  roll(now: number): boolean {
    const elapsed = now - this.#bucketStart;
    if (elapsed < BUCKET_MS) return false;
    const i = this.#next;
    this.#rates[i] = this.#passes * 1000 / elapsed;
    this.#latencies[i] = this.#latencyCount > 0 ? this.#latencySum / this.#latencyCount : NaN;
    this.#next = (i + 1) % WINDOW_BUCKETS;
    this.#bucketStart = now;
    this.#passes = 0;
    this.#latencySum = 0;
    this.#latencyCount = 0;
    let maxRate = 0, minLatency = Infinity;
    for (let b = 0; b < WINDOW_BUCKETS; b++) {
      if (this.#rates[b] > maxRate) maxRate = this.#rates[b];
      // NaN compares false: empty buckets are skipped.
      if (this.#latencies[b] < minLatency) minLatency = this.#latencies[b];
    }
    this.#maxRate = maxRate;
    this.#minLatency = minLatency === Infinity ? NaN : minLatency;
    return true;
  }

  /**
   * Calls that fit in flight: max completions/s × (min latency + `slackMs`),
   * rounded, at least 1; Infinity until a latency has been measured.
   *
   * The slack is the queueing the caller allows anyway. An event loop
   * finishes calls in batches (every call parsed from one socket read runs
   * before any of their responses is written), so even an unloaded loop
   * has more than max rate × min latency calls in flight, as TCP BBR has
   * more than one bandwidth-delay product of packets (it allows two).
   */
  inFlightLimit(slackMs: number): number {
    if (Number.isNaN(this.#minLatency) || this.#maxRate === 0) return Infinity;
    return Math.max(1, Math.round(this.#maxRate * (this.#minLatency + slackMs) / 1000));
  }
}
