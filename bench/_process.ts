/**
 * Child processes for the bench: pinned to a CPU, output to a log file,
 * every one killed at the end; /proc readings of CPU time and memory.
 * @module
 */

// Shared with the tests: ports below the ephemeral range, never the same twice.
export { freePort } from "../tests/_free_port.ts";

/** A started process and where its output goes. */
export interface Started {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  readonly log: string;
}

const live = new Set<Deno.ChildProcess>();

/**
 * Whether servers and load generators are pinned apart: this machine has a
 * second core, and the run did not ask for `--no-pin` ({@link unpin}).
 */
export let PIN = navigator.hardwareConcurrency >= 2;

/** No pinning from now on: every process may use every core. */
export function unpin(): void {
  PIN = false;
}
/** The load generator's core; the server gets {@link SERVER_CPU}. */
export const LOAD_CPU = 0;
/** The server's core. */
export const SERVER_CPU = 1;

function pinned(cpu: number, cmd: readonly string[]): string[] {
  return PIN ? ["taskset", "-c", String(cpu), ...cmd] : [...cmd];
}

/** Pins this process (all its threads) to the load generator's core. */
export async function pinSelf(): Promise<void> {
  if (!PIN) return;
  await run(["taskset", "-a", "-p", "-c", String(LOAD_CPU), String(Deno.pid)], {
    timeoutMs: 5_000,
  });
}

/**
 * Starts `cmd` on `cpu` with stdout and stderr going to `log`. The shell
 * execs, and taskset execs, so the PID is the command's own.
 */
export function startLogged(
  cmd: readonly string[],
  options: { cpu: number; log: string; cwd: string; env?: Record<string, string> },
): Started {
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$@" >"$BENCH_LOG" 2>&1', "sh", ...pinned(options.cpu, cmd)],
    cwd: options.cwd,
    env: { ...options.env, BENCH_LOG: options.log },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  live.add(child);
  child.status.finally(() => live.delete(child));
  return { child, pid: child.pid, log: options.log };
}

/** Starts `cmd` on `cpu` with stdout piped, for reading its lines as they come. */
export function startPiped(
  cmd: readonly string[],
  options: { cpu: number; cwd: string },
): { child: Deno.ChildProcess; lines: AsyncIterator<string> } {
  const child = new Deno.Command(pinned(options.cpu, cmd)[0], {
    args: pinned(options.cpu, cmd).slice(1),
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  live.add(child);
  child.status.finally(() => live.delete(child));
  return { child, lines: _lines(child.stdout)[Symbol.asyncIterator]() };
}

/**
 * Starts `cmd` on `cpu` with stdout and stderr piped, for `child.output()`
 * once it ends (or is signalled); {@link stopAll} kills it if it is left.
 */
export function startCollected(
  cmd: readonly string[],
  options: { cpu: number },
): Deno.ChildProcess {
  const full = pinned(options.cpu, cmd);
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(child);
  child.status.finally(() => live.delete(child));
  return child;
}

async function* _lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    rest += text;
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) yield rest;
}

/** Resolves with `promise`, or rejects with `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What {@link run} returns. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd` to completion (optionally pinned), killing it after `timeoutMs`. */
export async function run(
  cmd: readonly string[],
  options: { timeoutMs: number; cpu?: number; cwd?: string; env?: Record<string, string> },
): Promise<RunResult> {
  const full = options.cpu === undefined ? [...cmd] : pinned(options.cpu, cmd);
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const timer = setTimeout(() => kill(child), options.timeoutMs);
  try {
    const out = await child.output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    if (out.signal === "SIGKILL") {
      throw new Error(`${cmd.join(" ")}: killed after ${options.timeoutMs} ms`);
    }
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } finally {
    clearTimeout(timer);
    live.delete(child);
  }
}

/** SIGKILLs `child` if it still runs. */
export function kill(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // already gone
  }
}

/** Kills `child` and waits (bounded) for it to be reaped. */
export async function stop(child: Deno.ChildProcess): Promise<void> {
  kill(child);
  await within(child.status, 5_000, `pid ${child.pid} exit`).catch(() => {});
}

/** Kills every process the bench started that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map(stop));
}

let clockTicks = 100;
/** Reads the kernel's clock tick rate (for /proc/PID/stat times). */
export async function initClockTicks(): Promise<void> {
  const out = await run(["getconf", "CLK_TCK"], { timeoutMs: 5_000 });
  clockTicks = Number(out.stdout.trim()) || 100;
}

/**
 * Seconds `pid`'s main thread has spent runnable but waiting for a CPU
 * (/proc/PID/task/PID/schedstat, second field): time another process, or
 * one of the server's own threads, held its core. 0 where schedstat is off.
 */
export function runQueueSeconds(pid: number): number {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/schedstat`).split(" ");
    return Number(fields[1]) / 1e9 || 0;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds of `pid` (all threads), from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/**
 * Waits until `pid` uses under 5% of a core over 200 ms (at most 60 s);
 * resolves with the seconds waited.
 */
export async function cpuSettled(pid: number): Promise<number> {
  const start = performance.now();
  let last = cpuSeconds(pid);
  while (performance.now() - start < 60_000) {
    await new Promise((r) => setTimeout(r, 200));
    const now = cpuSeconds(pid);
    if (now - last < 0.01) break;
    last = now;
  }
  return Math.round(performance.now() - start) / 1000;
}

/**
 * Resident memory now and at its peak, in MiB, from /proc/PID/status, and
 * the anonymous part of it now: what a container's memory limit charges
 * and cannot reclaim (the rest is mostly the executable's own pages).
 */
export function memoryMiB(pid: number): { rss: number; hwm: number; anon: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024, anon: kb("RssAnon") / 1024 };
}

/** The last `lines` lines of a log file, for error reports. */
export function tail(path: string, lines = 15): string {
  try {
    return Deno.readTextFileSync(path).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
