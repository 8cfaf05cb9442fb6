/**
 * Power of two choices (p2c) with a time-decayed latency EWMA, as go-zero's
 * `p2c_ewma` balancer and Finagle's peak-EWMA do it: pick two random
 * instances and call the one with the lower load, where load is
 * `(latency EWMA + 1 ms) × (calls in flight + 1)`. Two random choices avoid
 * the herd that "always the least loaded" causes when every caller sees the
 * same numbers, yet steer almost all calls away from a slow instance.
 *
 * The EWMA decays with time, not with the number of samples: a sample
 * `elapsed` ms after the previous one weighs `1 - exp(-elapsed / 10 s)`, so
 * the average spans about the last 10 s whether an instance serves ten
 * calls a second or ten thousand. An instance that lost every comparison
 * for a second is picked once anyway (go-zero's `forcePick`), so a slow
 * instance keeps being measured and wins calls back once it recovers.
 * @module
 */

/** How fast old latency samples fade (go-zero and Finagle: 10 s). */
export const DECAY_MS = 10_000;

/** An instance no pick chose for longer than this is chosen once when it is a candidate. */
export const FORCE_PICK_MS = 1_000;

/**
 * Added to the EWMA so that in-flight calls still count when latencies
 * round to 0 ms, and so that sub-millisecond noise between two fast
 * instances matters less than how busy they are.
 */
const LATENCY_OFFSET_MS = 1;

/**
 * The load of an instance that has calls in flight but no latency sample
 * yet (Finagle's `Penalty`): higher than any measured load, so callers do
 * not pile onto a new instance before its first answer says how fast it is.
 * Multiplied by the calls in flight, so unmeasured instances still compare
 * among themselves (a pool used only for streams has no samples at all).
 */
const UNMEASURED_PENALTY = 1e12;

/**
 * One instance's latency EWMA and when p2c last chose it.
 *
 * @example
 * ```ts
 * const load = new PeerLoad(Date.now());
 * load.record(12, Date.now());
 * load.value(3); // (12 + 1) × (3 + 1) = 52
 * ```
 */
export class PeerLoad {
  /** The latency EWMA in ms; meaningless until {@link measured}. */
  latencyMs = 0;
  /** A latency sample has been recorded. */
  measured = false;
  /** When p2c last chose this instance (epoch ms); starts at its creation. */
  lastPickedAt: number;
  #lastSampleAt = 0;

  constructor(now: number) {
    this.lastPickedAt = now;
  }

  /** Folds in one attempt's latency; the first sample is taken whole. */
  record(latencyMs: number, now: number): void {
    const elapsed = now > this.#lastSampleAt ? now - this.#lastSampleAt : 0;
    const keep = this.measured ? Math.exp(-elapsed / DECAY_MS) : 0;
    this.latencyMs = this.latencyMs * keep + (latencyMs > 0 ? latencyMs : 0) * (1 - keep);
    this.measured = true;
    this.#lastSampleAt = now;
  }

  /** The load with `inFlight` calls in flight: lower is better; 0 for an idle unmeasured instance. */
  value(inFlight: number): number {
    if (!this.measured) return inFlight * UNMEASURED_PENALTY;
    return (this.latencyMs + LATENCY_OFFSET_MS) * (inFlight + 1);
  }
}

/** What p2c needs of an instance. */
export interface P2cPeer {
  readonly load: PeerLoad;
  /** Calls in flight. */
  readonly active: number;
  /** Worth a call now (not down, not ejected, channel not failing). */
  available(now: number): boolean;
}

/**
 * The instance for the next call by p2c among the available ones other than
 * `avoid`, or undefined when none is available (the caller falls back).
 * Allocates nothing: one random pair is tried first, which in a healthy pool
 * is all it takes; if either is unavailable the available ones are counted
 * and a pair drawn among them, so the choice stays uniform.
 *
 * @example
 * ```ts
 * const peer = pickP2c(slots, undefined, Date.now(), Math.random);
 * ```
 */
export function pickP2c<T extends P2cPeer>(
  peers: readonly T[],
  avoid: object | undefined,
  now: number,
  random: () => number,
): T | undefined {
  const n = peers.length;
  if (n >= 2) {
    const first = Math.floor(random() * n);
    let second = Math.floor(random() * (n - 1));
    if (second >= first) second++;
    const a = peers[first];
    const b = peers[second];
    if (a !== avoid && b !== avoid && a.available(now) && b.available(now)) {
      return _choose(a, b, now);
    }
  }
  let count = 0;
  for (let k = 0; k < n; k++) {
    const peer = peers[k];
    if (peer !== avoid && peer.available(now)) count++;
  }
  if (count === 0) return undefined;
  if (count === 1) {
    const only = _nthAvailable(peers, avoid, now, 0);
    only.load.lastPickedAt = now;
    return only;
  }
  const first = Math.floor(random() * count);
  let second = Math.floor(random() * (count - 1));
  if (second >= first) second++;
  return _choose(
    _nthAvailable(peers, avoid, now, first),
    _nthAvailable(peers, avoid, now, second),
    now,
  );
}

/** The less loaded of two, unless the other has waited over {@link FORCE_PICK_MS} (go-zero's `choose`). */
function _choose<T extends P2cPeer>(a: T, b: T, now: number): T {
  let winner = a;
  let loser = b;
  if (a.load.value(a.active) > b.load.value(b.active)) {
    winner = b;
    loser = a;
  }
  if (now - loser.load.lastPickedAt > FORCE_PICK_MS) winner = loser;
  winner.load.lastPickedAt = now;
  return winner;
}

/** The `index`-th (from 0) available peer other than `avoid`; it exists (counted just before). */
function _nthAvailable<T extends P2cPeer>(
  peers: readonly T[],
  avoid: object | undefined,
  now: number,
  index: number,
): T {
  let seen = 0;
  for (let k = 0; k < peers.length; k++) {
    const peer = peers[k];
    if (peer === avoid || !peer.available(now)) continue;
    if (seen++ === index) return peer;
  }
  throw new Error(`Cannot find available peer ${index}: the pool changed during a pick`);
}
