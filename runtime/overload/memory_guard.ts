/**
 * The memory-limit guard (`server.memoryLimitBytes`): keeps the process
 * under its memory limit by reclaiming garbage, then by refusing new calls,
 * before the kernel's OOM killer ends it with every call it was serving.
 * See docs/overload.md ("Memory limit") for the measurements.
 *
 * A timer samples the process's anonymous resident memory
 * (memory_sampler.ts says why that figure) every {@link SAMPLE_MS}:
 *
 * - at {@link SOFT_SHARE} of the limit it forces a full GC and trims
 *   malloc (memory_reclaim.ts), at most every {@link RECLAIM_EVERY_MS}
 *   (and ≤ 10 % of the time): V8 keeps several times the live heap
 *   committed for up to 30 s, so this alone keeps most processes far below
 *   their limit;
 * - at {@link HARD_SHARE} it refuses every new call RESOURCE_EXHAUSTED
 *   (never health or reflection) and makes the memory budget refuse large
 *   requests, until memory is back under the soft level;
 * - once a GC has shown what a call in flight holds, new calls are let
 *   in only while those in flight, at that much each, fit under the soft
 *   level with what the process holds now. Refusing on samples alone
 *   lets through, in the 50 ms between two, every call the clients send;
 *   when refused clients all retry at once, that burst is what kills the
 *   process (measured with an earlier, CPU-heavier fixture: with refusal at
 *   the hard level alone, 24 callers took anonymous memory to 265 MiB under
 *   a 128 MiB limit, and got svc OOM-killed in a 128 MiB cgroup).
 *
 * What a call costs is measured when a GC is forced at the soft level:
 * (memory before it − memory with no call in flight) / calls in flight,
 * garbage included, as it stays until the next GC. The figure fades while
 * calls are refused with memory nearer idle than the soft level (the calls
 * changed), and is dropped once memory has stayed under the soft level,
 * with nothing refused, for {@link CALM_AFTER_MS}. Under the hard level one
 * call at a time always goes in, and a call refused while a call's worth of
 * memory above idle may be garbage forces a GC: a process idling just
 * under the soft level does not refuse calls for ever.
 *
 * The timer does not run while handlers keep the event loop busy (seen:
 * 4 s without a tick, while 24 calls were admitted), so the gate also
 * samples when the last sample is older than {@link SAMPLE_MS}: checked at
 * every call past {@link WATCH_SHARE} of the limit, every
 * {@link CHECK_EVERY}th below. Per call, admit and release cost ~25 ns (a
 * compare and three counter updates), plus a clock read (~0.3 µs in Deno)
 * where checked; the module is not loaded at all when no limit is in force.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { AdmissionFor, CallAdmission } from "../server/admission.ts";

/** Share of the limit at which the guard forces a GC and starts pacing new calls. */
export const SOFT_SHARE = 0.65;
/** Share of the limit at which new calls are refused, until under {@link SOFT_SHARE}. */
export const HARD_SHARE = 0.8;
/** How often memory is sampled (one sample is ~5–8 µs). */
export const SAMPLE_MS = 50;
/** Fewest milliseconds between forced GCs; also at least 10 × the last one's pause (≤ 2 s). */
export const RECLAIM_EVERY_MS = 500;
/** Share of the limit from which every call admitted checks that the last sample is recent. */
export const WATCH_SHARE = 0.5;
/** Calls between those checks below {@link WATCH_SHARE}. */
export const CHECK_EVERY = 16;
/** How long memory stays under the soft level, nothing refused, before calls are no longer paced. */
export const CALM_AFTER_MS = 2_000;

/** What the guard needs; tests pass a fake sampler and clock and tick by hand. */
export interface MemoryGuardOptions {
  readonly limitBytes: number;
  /** The process's memory now, in bytes. */
  readonly sample: () => number;
  /** Forces a GC and trims malloc; null when the runtime cannot. */
  readonly reclaim: (() => void) | null;
  readonly log: Logger;
  /** Told to refuse large requests while calls are refused (util/memory_budget.ts fits). */
  readonly budget?: { refuseLarge: boolean };
  readonly clock?: () => number;
  /** Start the sampling timer. Default true; tests call {@link MemoryGuard.tick}. */
  readonly timer?: boolean;
  /** Runs once at {@link MemoryGuard.stop} (closes the sampler's file, unloads libc). */
  readonly onStop?: () => void;
}

const MiB = 2 ** 20;

/**
 * The guard; {@link MemoryGuard.admissionFor} gives the server its gates.
 * Its public fields are what metrics/memory_limit.ts shows.
 */
export class MemoryGuard {
  readonly limit: number;
  /** Bytes at the last sample. */
  used = 0;
  /** The most any sample read. */
  peak = 0;
  forcedGcs = 0;
  /** Milliseconds spent in forced GCs (and trims), in total. */
  reclaimMs = 0;
  rejections = 0;

  readonly #soft: number;
  readonly #hard: number;
  readonly #watch: number;
  readonly #sample: () => number;
  readonly #reclaim: (() => void) | null;
  readonly #log: Logger;
  readonly #budget: { refuseLarge: boolean } | null;
  readonly #clock: () => number;
  /** Null once stopped. */
  #onStop: (() => void) | null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #nextReclaimAt = -Infinity;
  #lastReclaimAt = -Infinity;
  /** Calls in flight at the last forced GC. */
  #inFlightAtReclaim = 0;
  /** Calls admitted and not yet settled (streams too, until they end). */
  #inFlight = 0;
  #lastTickAt = -Infinity;
  /** Calls until the gate next asks whether a sample is due. */
  #countdown = CHECK_EVERY;
  /** Memory was past WATCH_SHARE at the last sample, or calls are paced. */
  #near = false;
  /** Calls the gate lets be in flight; Infinity while calm, -1 while full. */
  #cap = Infinity;
  /** Memory with no call in flight, after a GC (or at start). */
  #baseline: number;
  /** What one call in flight costs, from memory before a forced GC; 0 until measured. */
  #perCall = 0;
  /** Pacing lasts until then (memory at the soft level, or a call refused, within CALM_AFTER_MS). */
  #pacedUntil = -Infinity;
  /** Rejections at the last sample. */
  #rejectionsAtTick = 0;
  /** Memory reached the hard level and has not been under the soft level since. */
  #full = false;
  #error: RpcError;
  /** Rejections when the current spell of pacing began, for its log lines. */
  #rejectionsAtStart = 0;
  /** This spell's warn line is written. */
  #warned = false;

  constructor(options: MemoryGuardOptions) {
    this.limit = options.limitBytes;
    this.#soft = SOFT_SHARE * this.limit;
    this.#hard = HARD_SHARE * this.limit;
    this.#watch = WATCH_SHARE * this.limit;
    this.#sample = options.sample;
    this.#reclaim = options.reclaim;
    this.#log = options.log;
    this.#budget = options.budget ?? null;
    this.#clock = options.clock ?? (() => performance.now());
    this.#onStop = options.onStop ?? (() => {});
    this.#error = this.#errorFor(0);
    this.#baseline = this.#sample();
    if (options.timer !== false) {
      const timer = this.#timer = setInterval(() => this.tick(), SAMPLE_MS);
      // The guard alone must not keep the process alive.
      Deno.unrefTimer(timer);
    }
    this.tick();
  }

  /** Whether new calls are paced or refused (memory was near the limit lately). */
  get shedding(): boolean {
    return this.#cap !== Infinity;
  }

  /** How many calls may be in flight; Infinity while calm, -1 while full. */
  get cap(): number {
    return this.#cap;
  }

  /** Whether every new call is refused (memory reached the hard level). */
  get full(): boolean {
    return this.#full;
  }

  /** Calls admitted and not yet settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** What one call in flight was last measured to cost, in bytes; 0 until measured. */
  get perCall(): number {
    return this.#perCall;
  }

  /** One sample, and what it calls for. */
  tick(): void {
    if (this.#onStop === null) return; // stopped: the sampler is closed
    const sampled = this.#sample();
    const now = this.#lastTickAt = this.#clock();
    let used = sampled;
    const refused = this.rejections > this.#rejectionsAtTick;
    this.#rejectionsAtTick = this.rejections;
    // Calls were paced away under the soft level, and a call's worth of memory
    // above idle may be garbage: a GC makes room (else an idle process just under
    // the soft level would refuse calls for as long as they come).
    const starved = refused && this.#perCall > 0 && sampled - this.#baseline >= this.#perCall;
    // At the hard level, as often as RECLAIM_EVERY_MS allows: survival first. While
    // full, also as soon as half the calls in flight at the last GC have settled:
    // what they held is garbage, and every call is being refused.
    const due = now >= this.#nextReclaimAt ||
      (sampled >= this.#hard && now >= this.#lastReclaimAt + RECLAIM_EVERY_MS) ||
      (this.#full && this.#inFlight <= this.#inFlightAtReclaim / 2);
    if ((sampled >= this.#soft || starved) && this.#reclaim !== null && due) {
      // Only at the soft level is memory before the GC a measure of the calls in flight.
      used = this.#collect(now, sampled >= this.#soft ? sampled : null);
    }
    this.used = used;
    if (sampled > this.peak) this.peak = sampled;
    if (sampled >= this.#soft || refused) this.#pacedUntil = now + CALM_AFTER_MS;
    else if (now >= this.#pacedUntil) this.#perCall = 0;
    // Refusing while memory is nearer idle than the soft level: calls now hold less
    // than the figure says (small calls after large ones).
    if (refused && used < (this.#baseline + this.#soft) / 2) this.#perCall *= 0.8;
    const wasPaced = this.shedding;
    if (!this.#full && used >= this.#hard) this.#fill(used);
    else if (this.#full && used < this.#soft) this.#drain(used);
    if (this.#full) this.#cap = -1;
    else if (this.#perCall > 0) {
      // Above the soft level this is below the calls in flight: settled ones are not
      // replaced. Under the hard level one call at a time always goes in.
      this.#cap = Math.max(1, this.#inFlight + Math.floor((this.#soft - used) / this.#perCall));
    } else this.#cap = Infinity;
    this.#near = sampled >= this.#watch || this.shedding;
    if (this.#near) this.#countdown = 1;
    if (this.shedding) this.#error = this.#errorFor(used);
    if (!wasPaced && this.shedding) this.#rejectionsAtStart = this.rejections;
    if (this.shedding && !this.#warned && this.rejections > this.#rejectionsAtStart) {
      this.#warned = true;
      this.#log.warn("memory limit: pacing new calls to what fits under the limit", {
        usedBytes: used,
        limitBytes: this.limit,
        perCallBytes: Math.round(this.#perCall),
      });
    }
    if (wasPaced && !this.shedding) {
      this.#warned = false;
      this.#log.info("memory limit: accepting calls again", {
        usedBytes: used,
        limitBytes: this.limit,
        refused: this.rejections - this.#rejectionsAtStart,
      });
    }
  }

  /**
   * Every method's gate, checked before `inner`'s (the overload limiter's,
   * if on); `exempt` services (health, reflection) get only `inner`'s.
   */
  admissionFor(exempt: (service: string) => boolean, inner?: AdmissionFor): AdmissionFor {
    const gate: CallAdmission = {
      admit: () => {
        if (--this.#countdown === 0) this.#sampleIfLate();
        if (this.#inFlight >= this.#cap) this.#refuse();
        this.#inFlight++;
        return 0;
      },
      release: () => {
        this.#inFlight--;
      },
    };
    return admitFirst((method) => exempt(method.service) ? null : gate, inner);
  }

  /**
   * A sample if the timer's is late: a loop busy with handlers runs no
   * timer, and they are what allocates. Asked at every call once memory is
   * past {@link WATCH_SHARE}, else every {@link CHECK_EVERY}th: a clock
   * read is ~0.3 µs in Deno.
   */
  #sampleIfLate(): void {
    this.#countdown = this.#near ? 1 : CHECK_EVERY;
    if (this.#clock() - this.#lastTickAt >= SAMPLE_MS) this.tick();
  }

  /** Stops the timer for good. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#onStop?.();
    this.#onStop = null;
  }

  /**
   * Forces a GC. What a call costs is taken from memory before it, less
   * memory with no call in flight: each call's garbage (a serialized copy,
   * buffers) stays until the next GC, so the process must have room for it
   * too; memory after a GC would count only what calls keep.
   */
  #collect(now: number, before: number | null): number {
    this.#reclaim!();
    const after = this.#clock();
    this.forcedGcs++;
    this.reclaimMs += after - now;
    this.#nextReclaimAt = after + Math.max(RECLAIM_EVERY_MS, Math.min(10 * (after - now), 2_000));
    this.#inFlightAtReclaim = this.#inFlight;
    this.#lastReclaimAt = after;
    const used = this.#sample();
    if (this.#inFlight === 0) this.#baseline = used;
    // Not while full: calls drain, and what the settled ones left would count against the rest.
    else if (!this.#full && before !== null && before > this.#baseline) {
      // Calls just admitted may not have allocated yet: keep most of the last figure.
      const perCall = (before - this.#baseline) / this.#inFlight;
      this.#perCall = Math.max(perCall, 0.75 * this.#perCall);
    }
    return used;
  }

  #refuse(): never {
    this.rejections++;
    throw this.#error;
  }

  #fill(used: number): void {
    this.#full = true;
    this.#warned = true;
    if (this.#budget) this.#budget.refuseLarge = true;
    this.#log.warn("memory limit: refusing new calls until memory is back under the soft level", {
      usedBytes: used,
      limitBytes: this.limit,
      softBytes: Math.round(this.#soft),
      inFlight: this.#inFlight,
      perCallBytes: Math.round(this.#perCall),
    });
  }

  #drain(used: number): void {
    this.#full = false;
    if (this.#budget) this.#budget.refuseLarge = false;
    this.#log.info("memory limit: under the soft level; admitting what fits", {
      usedBytes: used,
      limitBytes: this.limit,
      perCallBytes: Math.round(this.#perCall),
    });
  }

  #errorFor(used: number): RpcError {
    return new RpcError(
      Status.RESOURCE_EXHAUSTED,
      `memory limit: process at ${Math.round(used / MiB)} of ${
        Math.round(this.limit / MiB)
      } MiB; retry with backoff, or on another instance`,
    );
  }
}

/**
 * Gates that ask `first` and then `inner`. `first`'s gates must not need
 * their ticket back (their `release` gets 0), as the memory guard's do.
 */
export function admitFirst(first: AdmissionFor, inner?: AdmissionFor): AdmissionFor {
  if (inner === undefined) return first;
  return (method) => {
    const a = first(method);
    const b = inner(method);
    if (a === null || b === null) return a ?? b;
    return {
      admit(call) {
        a.admit(call);
        try {
          return b.admit(call);
        } catch (error) {
          a.release(0);
          throw error;
        }
      },
      release(ticket) {
        a.release(0);
        b.release(ticket);
      },
    };
  };
}
