/**
 * Outlier ejection in the spirit of gRFC A50's failure-percentage
 * ejection: every interval, an instance whose share of failed calls
 * (`isDependencyFailure`) reaches the threshold is skipped for a while,
 * longer each time it is ejected again. Unlike the UNAVAILABLE backoff,
 * which only sees an instance that cannot be reached, this catches one
 * that answers but answers badly (INTERNAL, DEADLINE_EXCEEDED, ...).
 *
 * There are no timers: the pool runs {@link OutlierDetector.update} from
 * pick() and release() once `now` reaches {@link OutlierDetector.nextEventAt},
 * so an idle pool costs nothing and tests drive it with a fake clock.
 * @module
 */
import { isDependencyFailure } from "./failure_codes.ts";

/** Outlier detection settings; durations in ms (`ResolvedOutlierDetection` minus `enabled`). */
export interface OutlierOptions {
  /** How often failure shares are compared. */
  interval: number;
  /** The first ejection's length; the n-th ejection in a row lasts n times this. */
  baseEjectionTime: number;
  /** The longest ejection (but never shorter than `baseEjectionTime`). */
  maxEjectionTime: number;
  /** Most instances ejected at once, in percent of the pool (rounded down). */
  maxEjectionPercent: number;
  /** Failure share, in percent, at which an instance is ejected. */
  failurePercentage: number;
  /** Instances with `requestVolume` calls needed in an interval before any is ejected. */
  minimumHosts: number;
  /** Calls an instance needs in an interval to be judged. */
  requestVolume: number;
}

/** Told when an instance is ejected (for how long, in ms) or returns (`null`). */
export type EjectionListener = (address: string, ejectedForMs: number | null) => void;

/** One instance's outlier bookkeeping. */
export class OutlierState {
  /** Calls that ended in the current interval. */
  calls = 0;
  /** Of those, the ones that count against the instance. */
  failures = 0;
  /** A50's multiplier: +1 per ejection, -1 per interval without one. */
  ejectionCount = 0;
  /** Ejected while `now < ejectedUntil` (epoch ms); kept after the return to tell which interval it ended in. */
  ejectedUntil = 0;
  /** The listener was told of the ejection and not yet of the return. */
  reportedEjected = false;
}

/** What outlier detection needs of an instance. */
export interface OutlierPeer {
  readonly address: string;
  readonly outlier: OutlierState;
}

/**
 * Counts calls per instance and ejects outliers, one pool's worth.
 *
 * @example
 * ```ts
 * const detector = new OutlierDetector(options, Date.now());
 * detector.record(slot.outlier, Status.INTERNAL);
 * if (Date.now() >= detector.nextEventAt) detector.update(slots, Date.now());
 * ```
 */
export class OutlierDetector {
  readonly #options: OutlierOptions;
  readonly #onEjection: EjectionListener | undefined;
  #lastCheckAt: number;
  #nextCheckAt: number;
  #ejections = 0;
  /** The earliest time {@link update} has something to do: the next check or the next return. */
  nextEventAt: number;

  constructor(options: OutlierOptions, now: number, onEjection?: EjectionListener) {
    this.#options = options;
    this.#onEjection = onEjection;
    this.#lastCheckAt = now;
    this.#nextCheckAt = this.nextEventAt = now + options.interval;
  }

  /** Ejections so far, returns not subtracted (a counter for metrics). */
  get ejections(): number {
    return this.#ejections;
  }

  /** Counts one ended call with gRPC status `code`. */
  record(state: OutlierState, code: number): void {
    state.calls++;
    if (isDependencyFailure(code)) state.failures++;
  }

  /** Instances ejected at `now`. */
  ejectedCount(peers: readonly OutlierPeer[], now: number): number {
    let count = 0;
    for (const peer of peers) if (peer.outlier.ejectedUntil > now) count++;
    return count;
  }

  /**
   * Reports instances whose ejection has ended and, when the interval is
   * over, judges the interval's calls and starts the next one. Cheap to
   * call early, but meant for `now >= nextEventAt`.
   */
  update(peers: readonly OutlierPeer[], now: number): void {
    for (const peer of peers) {
      const state = peer.outlier;
      if (state.reportedEjected && state.ejectedUntil <= now) {
        state.reportedEjected = false;
        this.#onEjection?.(peer.address, null);
      }
    }
    if (now >= this.#nextCheckAt) {
      this.#eject(peers, now);
      this.#forgive(peers, now);
      for (const peer of peers) peer.outlier.calls = peer.outlier.failures = 0;
      this.#lastCheckAt = now;
      this.#nextCheckAt = now + this.#options.interval;
    }
    let next = this.#nextCheckAt;
    for (const peer of peers) {
      const until = peer.outlier.ejectedUntil;
      if (until > now && until < next) next = until;
    }
    this.nextEventAt = next;
  }

  /** A50's failure-percentage ejection over the interval that just ended, worst failure share first. */
  #eject(peers: readonly OutlierPeer[], now: number): void {
    const o = this.#options;
    // At least one call, so that a share exists.
    const volume = Math.max(1, o.requestVolume);
    let judged = 0;
    for (const peer of peers) if (peer.outlier.calls >= volume) judged++;
    if (judged < o.minimumHosts) return;
    // Integer comparison (failures/calls ≥ p/100 as failures·100 ≥ p·calls): no rounding at the edge.
    const outliers = peers.filter(({ outlier: s }) =>
      s.calls >= volume && s.ejectedUntil <= now &&
      s.failures * 100 >= o.failurePercentage * s.calls
    );
    if (outliers.length === 0) return;
    outliers.sort((a, b) => _share(b.outlier) - _share(a.outlier));
    // Never more than the allowed share, and never the last instance left to call.
    const allowed = Math.min(
      Math.floor(o.maxEjectionPercent * peers.length / 100),
      peers.length - 1,
    );
    let ejected = this.ejectedCount(peers, now);
    for (const peer of outliers) {
      if (ejected + 1 > allowed) break;
      const state = peer.outlier;
      state.ejectionCount++;
      const ms = Math.min(
        o.baseEjectionTime * state.ejectionCount,
        Math.max(o.baseEjectionTime, o.maxEjectionTime),
      );
      state.ejectedUntil = now + ms;
      state.reportedEjected = true;
      ejected++;
      this.#ejections++;
      this.#onEjection?.(peer.address, ms);
    }
  }

  /**
   * A50 lowers the multiplier by one per interval in which an instance was
   * not ejected at all, so an instance that fails again soon after its
   * return is ejected for longer, and one that stayed well starts over. An
   * ejection that ended after the last check covered part of this interval,
   * so that interval does not count; a long idle gap counts as many.
   */
  #forgive(peers: readonly OutlierPeer[], now: number): void {
    const interval = this.#options.interval;
    for (const peer of peers) {
      const state = peer.outlier;
      if (state.ejectionCount === 0) continue;
      const cleanSince = Math.max(this.#lastCheckAt, state.ejectedUntil);
      const cleanIntervals = Math.floor((now - cleanSince) / interval);
      if (cleanIntervals > 0) {
        state.ejectionCount = Math.max(0, state.ejectionCount - cleanIntervals);
      }
    }
  }
}

function _share(state: OutlierState): number {
  return state.failures / state.calls;
}
