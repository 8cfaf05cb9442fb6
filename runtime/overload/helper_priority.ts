/**
 * V8's helper threads give way to the event loop while it has time to
 * spare (`server.yieldHelperThreads`).
 *
 * V8 compiles hot functions (TurboFan) and marks and sweeps the heap on
 * its own "DefaultWorker" threads. Where svc has one core (a pinned
 * process, a one-vCPU node), the kernel shares it between them and the
 * event loop as equals: a call that arrives during a 5 ms compile job
 * waits for the job's turns. That wait is most of svc's p99.9 at a steady
 * 5,000 calls/s (bench/README.md, "The tail at 5,000 calls/s, again").
 * At nice 19 a helper weighs 15 to the loop's 1024, so the loop runs as
 * soon as a call wakes it and the helper takes the time the loop leaves.
 *
 * Always at nice 19, though, a saturated loop leaves them nothing: the
 * JIT's work waited until the load stopped and small calls cost 20-35 %
 * more CPU (session 17). So this looks twice a second at how busy the
 * busiest thread that is not a helper was (the event loop, or the busiest
 * worker's): under half a core, the helpers yield; over 0.7, they share
 * again. Nothing runs per call; a look reads ~10 lines of /proc.
 *
 * Raising a thread's priority back needs CAP_SYS_NICE (or an RLIMIT_NICE
 * that allows it): without it the helpers could never share again, so a
 * probe at start finds out and, if refused, nothing is lowered. The
 * reading needs /proc and the change FFI: `svc run` (under `deno run -A`)
 * has both, a compiled binary neither, so it is skipped there.
 * @module
 */
import type { Logger } from "../core/logger.ts";
import { openLibc } from "../util/libc.ts";

/** How often the busiest thread is looked at. */
export const HELPER_CHECK_MS = 500;
/** The helpers' nice value while they yield: the lowest weight CFS/EEVDF has. */
export const YIELDING_NICE = 19;
/** The busiest thread's share of a core under which the helpers yield... */
export const YIELD_BELOW = 0.5;
/** ...and over which they share the core again. */
export const SHARE_ABOVE = 0.7;
/** V8's platform worker threads, as the kernel names them (15 characters). */
const HELPER_NAME = "V8 DefaultWorke";
/** Linux's USER_HZ: /proc's CPU times count these. */
const TICKS_PER_SECOND = 100;

/** One thread as /proc/self/task/<tid>/stat shows it. */
export interface ThreadStat {
  readonly tid: number;
  readonly name: string;
  /** User and system CPU time, in ticks of 1/100 s. */
  readonly cpuTicks: number;
  readonly nice: number;
}

/** A thread's stat line, or null if it is not one. The name may hold spaces and parentheses. */
export function parseThreadStat(tid: number, text: string): ThreadStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  // Fields from the third (state) on; utime and stime are the 14th and 15th, nice the 19th.
  const fields = text.slice(close + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const nice = Number(fields[16]);
  if (![utime, stime, nice].every(Number.isFinite)) return null;
  return { tid, name: text.slice(open + 1, close), cpuTicks: utime + stime, nice };
}

/** Whether `thread` is one of V8's helpers. */
export function isHelper(thread: ThreadStat): boolean {
  return thread.name === HELPER_NAME;
}

/** How the watch reads threads and changes their priority (tests pass their own). */
export interface ThreadControl {
  /** The process's thread ids. */
  tids(): Promise<number[]>;
  /** One thread's stat, or null if it ended. */
  stat(tid: number): Promise<ThreadStat | null>;
  /** setpriority on one thread; false if refused. */
  setNice(tid: number, nice: number): boolean;
  /** The id of the thread running this JavaScript: an event loop, whatever its name. */
  ownTid(): number;
  close?(): void;
}

/** The running watch. */
export interface HelperPriority {
  /** One look (the timer calls it every {@link HELPER_CHECK_MS}). */
  check(): Promise<void>;
  /** Whether the helpers are yielding now. */
  readonly yielding: boolean;
  /** How many times they switched either way. */
  readonly switches: number;
  /** Ends the watch and gives the helpers their priority back; idempotent. */
  stop(): void;
}

/** Options for {@link startHelperPriority}. */
export interface HelperPriorityOptions {
  readonly log: Logger;
  /** This process's threads through /proc and libc, unless given. */
  readonly control?: ThreadControl;
  readonly now?: () => number;
  /** false: the caller drives {@link HelperPriority.check} (tests). */
  readonly timer?: boolean;
}

/**
 * Starts the watch, or returns why not: no /proc or FFI, or the kernel
 * would not let a helper's priority be raised back.
 */
export async function startHelperPriority(
  options: HelperPriorityOptions,
): Promise<HelperPriority | { readonly skipped: string }> {
  const control = options.control ?? processThreads();
  if ("skipped" in control) return control;
  const skip = (skipped: string) => {
    control.close?.();
    return { skipped };
  };
  let threads: ThreadStat[];
  try {
    const all = await Promise.all((await control.tids()).map((tid) => control.stat(tid)));
    threads = all.filter((t): t is ThreadStat => t !== null);
  } catch {
    return skip("/proc/self/task cannot be read");
  }
  const probe = threads.find(isHelper);
  if (!probe) return skip("no V8 helper thread found");
  // Down one step and back: if the way back is refused, yielding would be for good.
  if (!control.setNice(probe.tid, probe.nice + 1) || !control.setNice(probe.tid, probe.nice)) {
    return skip("raising a thread's priority back is not permitted (needs CAP_SYS_NICE)");
  }
  const watch = new Watch(control, options.log, options.now ?? (() => performance.now()), {
    threads,
    sharingNice: probe.nice,
  });
  if (options.timer !== false) watch.schedule();
  return watch;
}

/**
 * What a thread is to the watch. Only event loops are read every look:
 * the helpers' priority is what the watch last set, and tokio's blocking
 * pool (file reads, DNS) never runs a loop. So a look is a directory read
 * and one stat per loop, whatever the pool has grown to.
 */
type Kind = "loop" | "helper" | "pool";

/**
 * `svc run`'s loop is the main thread ("deno") and its workers' are
 * "worker-N"; `deno test` runs a module's loop on a tokio thread, which
 * `ownTid` names.
 */
function kindOf(thread: ThreadStat, ownTid: number): Kind {
  if (isHelper(thread)) return "helper";
  return thread.name.startsWith("tokio-") && thread.tid !== ownTid ? "pool" : "loop";
}

class Watch implements HelperPriority {
  readonly #control: ThreadControl;
  readonly #log: Logger;
  readonly #now: () => number;
  /** The helpers' own priority (the process's, as started), which sharing restores. */
  readonly #sharingNice: number;
  readonly #kinds = new Map<number, Kind>();
  readonly #ownTid: number;
  /** Each helper's priority as last set (or found). */
  readonly #helperNice = new Map<number, number>();
  /** Each loop's CPU ticks at the last look. */
  #loopTicks = new Map<number, number>();
  #lastAt: number;
  #yielding = false;
  #switches = 0;
  #stopped = false;
  #checking = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    control: ThreadControl,
    log: Logger,
    now: () => number,
    start: { threads: readonly ThreadStat[]; sharingNice: number },
  ) {
    this.#control = control;
    this.#log = log;
    this.#now = now;
    this.#sharingNice = start.sharingNice;
    this.#ownTid = control.ownTid();
    for (const thread of start.threads) this.#learn(thread);
    this.#lastAt = now();
  }

  get yielding(): boolean {
    return this.#yielding;
  }

  get switches(): number {
    return this.#switches;
  }

  schedule(): void {
    this.#timer = setTimeout(async () => {
      await this.check();
      if (!this.#stopped) this.schedule();
    }, HELPER_CHECK_MS);
    // The watch never keeps a process alive.
    Deno.unrefTimer(this.#timer);
  }

  async check(): Promise<void> {
    if (this.#stopped || this.#checking) return;
    this.#checking = true;
    try {
      const busiest = await this.#busiestLoop();
      if (busiest === null || this.#stopped) return;
      const yielding = this.#yielding ? busiest <= SHARE_ABOVE : busiest < YIELD_BELOW;
      if (yielding !== this.#yielding) {
        this.#yielding = yielding;
        this.#switches++;
        this.#log.debug(yielding ? "V8 helper threads yield" : "V8 helper threads share the core", {
          busiestThreadCores: Math.round(busiest * 100) / 100,
        });
      }
      // Every look, so that a helper V8 starts later gets the same.
      this.#apply(yielding ? YIELDING_NICE : this.#sharingNice);
    } finally {
      this.#checking = false;
    }
  }

  /** The busiest loop's share of a core since the last look; null if /proc could not be read. */
  async #busiestLoop(): Promise<number | null> {
    let tids: number[];
    try {
      tids = await this.#control.tids();
    } catch {
      return null;
    }
    const at = this.#now();
    const seconds = (at - this.#lastAt) / 1000;
    this.#lastAt = at;
    const alive = new Set(tids);
    for (const tid of this.#kinds.keys()) {
      if (!alive.has(tid)) this.#forget(tid);
    }
    const ticks = new Map<number, number>();
    let busiest = 0;
    for (const tid of tids) {
      const kind = this.#kinds.get(tid);
      if (kind === "helper" || kind === "pool") continue;
      const thread = await this.#control.stat(tid);
      if (thread === null) continue;
      if (kind === undefined && this.#learn(thread) !== "loop") continue;
      ticks.set(tid, thread.cpuTicks);
      const before = this.#loopTicks.get(tid);
      if (before !== undefined && seconds > 0) {
        busiest = Math.max(busiest, (thread.cpuTicks - before) / TICKS_PER_SECOND / seconds);
      }
    }
    this.#loopTicks = ticks;
    return busiest;
  }

  #learn(thread: ThreadStat): Kind {
    const kind = kindOf(thread, this.#ownTid);
    this.#kinds.set(thread.tid, kind);
    if (kind === "helper") this.#helperNice.set(thread.tid, thread.nice);
    if (kind === "loop") this.#loopTicks.set(thread.tid, thread.cpuTicks);
    return kind;
  }

  #forget(tid: number): void {
    this.#kinds.delete(tid);
    this.#helperNice.delete(tid);
    this.#loopTicks.delete(tid);
  }

  #apply(nice: number): void {
    for (const [tid, current] of this.#helperNice) {
      if (current !== nice && this.#control.setNice(tid, nice)) this.#helperNice.set(tid, nice);
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Synchronously: shutdown must not wait on /proc.
    this.#apply(this.#sharingNice);
    this.#yielding = false;
    this.#control.close?.();
  }
}

/** This process's threads: /proc/self/task to read them, libc's setpriority to change them. */
export function processThreads(): ThreadControl | { readonly skipped: string } {
  const libc = openLibc({
    setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
    gettid: { parameters: [], result: "i32" },
  });
  if ("unavailable" in libc) return { skipped: libc.unavailable };
  const PRIO_PROCESS = 0;
  return {
    async tids() {
      const tids: number[] = [];
      for await (const entry of Deno.readDir("/proc/self/task")) tids.push(Number(entry.name));
      return tids;
    },
    // A thread that ended since the directory was read has no stat.
    stat: (tid) =>
      Deno.readTextFile(`/proc/self/task/${tid}/stat`).then(
        (text) => parseThreadStat(tid, text),
        () => null,
      ),
    // On Linux a thread id is a "process" to setpriority: it changes that thread alone.
    setNice: (tid, nice) => libc.lib.symbols.setpriority(PRIO_PROCESS, tid, nice) === 0,
    ownTid: () => libc.lib.symbols.gettid(),
    close: () => libc.lib.close(),
  };
}
