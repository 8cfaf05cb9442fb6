/**
 * Gives memory back once a busy spell is over (`server.reclaimIdleMemory`).
 *
 * Under load V8 grows its young and old generations and glibc keeps the
 * buffers it freed; after the load stops, V8's memory reducer shrinks the
 * heap only 15–30 s later and nothing returns glibc's free pages at all. A
 * pod that served one burst keeps its peak: 320+ MiB after the bench's
 * case sequence where 100 MiB are live (bench/README.md). Java's G1
 * (periodic GC) and Go's scavenger give memory back when the process is
 * quiet; this does the same: once a second it reads the process's
 * anonymous RSS (~5 µs) and the calls started since the last look, and when
 * memory has grown well past where the last reclaim left it and calls have
 * all but stopped (≤ 100 a second, and ≤ a tenth of the spell's busiest
 * second) for two seconds in a row, it runs a full GC and malloc_trim(0) (memory_reclaim.ts): one
 * pause of tens of milliseconds, at a moment with few calls to delay.
 * Nothing runs per call but the counter the server keeps anyway.
 *
 * The first time the process is calm (≤ 100 calls a second for two seconds,
 * busy spell or not), it also hands back the executable's start-up pages,
 * once (executable_pages.ts).
 *
 * Under steady load nothing of that runs, yet glibc keeps what V8's helper
 * thread freed (it compiles, marks and sweeps): its arena held 10–25 MiB
 * with 0.2 MiB in use after the first seconds of small calls, for good.
 * So once calls have kept coming for five seconds in a row (the JIT has
 * warmed up by then), and memory has grown 16 MiB since the last trim or
 * reclaim, it runs malloc_trim(0) alone, with no GC, at most once a
 * minute: a pause of 1–3 ms, where a GC would stall every call in flight
 * for tens. A process that started under load hands back the executable's
 * start-up pages at that moment too, instead of waiting for a calm one
 * that may not come.
 * @module
 */
import type { Logger } from "../core/logger.ts";
import type { MemorySampler } from "./memory_sampler.ts";
import type { Reclaimer } from "./memory_reclaim.ts";
import type { ExecutablePagesResult } from "./executable_pages.ts";

const MiB = 1024 * 1024;
/** How often the process is looked at. */
export const RECLAIM_CHECK_MS = 1_000;
/** Growth over the last reclaim's result worth a pause. */
export const RECLAIM_GROWTH_BYTES = 32 * MiB;
/**
 * Quiet: a second with at most this share of the spell's busiest second's
 * calls, and at most QUIET_MAX_CALLS: the pause (tens of ms) then delays a
 * handful of calls. A drop to a lower but steady rate (5,000/s after a
 * 200,000/s burst) is not quiet: there the pause would land in its tail.
 */
const QUIET_SHARE = 0.1;
const QUIET_MAX_CALLS = 100;
/** ...for this many seconds in a row. */
const QUIET_CHECKS = 2;
/** At most one reclaim in this long, whatever the traffic does. */
const MIN_GAP_MS = 10_000;
/** Busy (more than QUIET_MAX_CALLS a second) this many seconds in a row: the JIT has settled. */
const SETTLED_CHECKS = 5;
/** At most one trim under load in this long. */
export const LOAD_TRIM_GAP_MS = 60_000;
/**
 * ...and only when memory grew this much since the last trim or reclaim:
 * a steady modest load (5,000 calls/s) grows none, and its tail then never
 * meets the pause.
 */
export const LOAD_TRIM_GROWTH_BYTES = 16 * MiB;

/** What the reclaimer watches and how it acts. */
export interface IdleReclaimOptions {
  readonly sampler: MemorySampler;
  /** Made at the first reclaim: until then nothing is exposed or loaded (gc, libc). */
  readonly reclaimer: () => Reclaimer | null;
  /** Calls started since the process began (the server's counter). */
  readonly callsStarted: () => number;
  /**
   * Run once, at the first calm moment: hands back the executable's
   * start-up pages, in pieces between calls; `signal` aborts at stop.
   */
  readonly releaseExecutablePages?: (signal: AbortSignal) => Promise<ExecutablePagesResult>;
  readonly log: Logger;
  /** Tests pass a clock and drive {@link IdleReclaim.check} themselves. */
  readonly now?: () => number;
}

/** The running reclaimer. */
export interface IdleReclaim {
  /** One look (the timer calls it every {@link RECLAIM_CHECK_MS}); true if it reclaimed. */
  check(): boolean;
  /** How many times memory was given back. */
  readonly reclaims: number;
  /** How many times malloc was trimmed under load. */
  readonly loadTrims: number;
  /** Ends the watch; idempotent. Shutdown calls it first: a drain is calm, not a moment to pause. */
  stop(): void;
}

/** Starts watching; `timer: false` leaves the checks to the caller (tests). */
export function startIdleReclaim(options: IdleReclaimOptions, timer = true): IdleReclaim {
  const { sampler, callsStarted, log } = options;
  const now = options.now ?? (() => performance.now());
  let floor = sampler.sample();
  /** Where the last trim under load (or reclaim) left memory: the bar for the next trim. */
  let trimFloor = floor;
  let lastCalls = callsStarted();
  let busiest = 0;
  let quietChecks = 0;
  let calmChecks = 0;
  let release = options.releaseExecutablePages;
  let lastReclaim = -Infinity;
  let reclaims = 0;
  let busyChecks = 0;
  let lastTrim = -Infinity;
  let loadTrims = 0;
  let reclaimer: Reclaimer | null | undefined;
  let stopped = false;
  /** Aborts a release of the start-up pages still under way when the watch stops. */
  const releasing = new AbortController();

  const check = (): boolean => {
    if (stopped) return false;
    const calls = callsStarted();
    const delta = calls - lastCalls;
    lastCalls = calls;
    if (delta > busiest) busiest = delta;
    const quiet = busiest > 0 && delta <= busiest * QUIET_SHARE && delta <= QUIET_MAX_CALLS;
    quietChecks = quiet ? quietChecks + 1 : 0;
    calmChecks = delta <= QUIET_MAX_CALLS ? calmChecks + 1 : 0;
    busyChecks = delta > QUIET_MAX_CALLS ? busyChecks + 1 : 0;
    if (busyChecks >= SETTLED_CHECKS) {
      settled();
      return false;
    }
    const used = sampler.sample();
    // Memory that went back down by itself (V8's own reducer) lowers the bar.
    if (used < floor) floor = used;
    if (used < trimFloor) trimFloor = used;
    if (quietChecks < QUIET_CHECKS || used - floor < RECLAIM_GROWTH_BYTES) {
      if (release && calmChecks >= QUIET_CHECKS) {
        releaseOnce(release);
        release = undefined;
      }
      return false;
    }
    if (now() - lastReclaim < MIN_GAP_MS) return false;
    reclaimer ??= options.reclaimer();
    if (reclaimer === null) return false;
    const started = now();
    reclaimer.reclaim();
    const after = sampler.sample();
    lastReclaim = now();
    reclaims++;
    log.info("memory given back after a busy spell", {
      beforeMiB: Math.round(used / MiB),
      afterMiB: Math.round(after / MiB),
      pauseMs: Math.round(lastReclaim - started),
      measure: sampler.measure,
      trimmed: reclaimer.trims,
    });
    floor = after;
    trimFloor = Math.min(trimFloor, after);
    busiest = delta;
    quietChecks = 0;
    return true;
  };

  /**
   * Under steady load: the start-up pages if still held, else a trim when
   * memory grew, at most once a minute.
   */
  const settled = () => {
    if (release) {
      releaseOnce(release);
      release = undefined;
      return;
    }
    if (now() - lastTrim < LOAD_TRIM_GAP_MS) return;
    const before = sampler.sample();
    if (before - trimFloor < LOAD_TRIM_GROWTH_BYTES) return;
    reclaimer ??= options.reclaimer();
    if (reclaimer === null || !reclaimer.trims) return;
    const started = now();
    reclaimer.trim();
    lastTrim = now();
    loadTrims++;
    const after = sampler.sample();
    // The next trim needs as much growth again: what V8 holds stays, and a trim would not move it.
    trimFloor = after;
    log.debug("malloc's free pages given back under load", {
      beforeMiB: Math.round(before / MiB),
      afterMiB: Math.round(after / MiB),
      pauseMs: Math.round(lastTrim - started),
    });
  };

  /** Starts the release; it goes on between calls, and logs when done. */
  const releaseOnce = (run: (signal: AbortSignal) => Promise<ExecutablePagesResult>) => {
    run(releasing.signal).then((result) => {
      if ("skipped" in result) {
        log.debug("start-up pages of the executable kept", { reason: result.skipped });
        return;
      }
      log.info("start-up pages of the executable given back", {
        advisedMiB: result.advisedMiB,
        rssFileMiB: result.rssFileMiB[0],
        afterMiB: result.rssFileMiB[1],
        pauseMs: result.pauseMs,
        tookMs: result.tookMs,
      });
    }, (error) => log.debug("start-up pages of the executable kept", { reason: String(error) }));
  };

  const interval = timer ? setInterval(check, RECLAIM_CHECK_MS) : null;
  if (interval !== null) Deno.unrefTimer(interval);
  return {
    check,
    get reclaims() {
      return reclaims;
    },
    get loadTrims() {
      return loadTrims;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      releasing.abort();
      if (interval !== null) clearInterval(interval);
      sampler.close();
      reclaimer?.close();
    },
  };
}
