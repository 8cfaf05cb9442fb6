/**
 * One repetition of one contender: a fresh server process, its cold start,
 * every load case (warm-up, measured run, gRPC-level checks) and its
 * memory after load.
 * @module
 */
import { join } from "node:path";
import type { BenchCase } from "./_cases.ts";
import { type Contender, servesCase } from "./_contenders.ts";
import { createLoad } from "./_load.ts";
import { type IdleConnectionsSample, measureIdleConnections } from "./_idle_connections.ts";
import {
  cpuSeconds,
  cpuSettled,
  freePort,
  LOAD_CPU,
  memoryMiB,
  run,
  runQueueSeconds,
  SERVER_CPU,
  startLogged,
  startPiped,
  stop,
  tail,
  within,
} from "./_process.ts";
import { NODE_DIR, PROTO, ROOT } from "./_setup.ts";

export { cpuSettled };
import { countSyscalls, type SyscallSample } from "./_syscalls.ts";
import {
  type MethodCounts,
  methodCounts,
  scrape,
  verifyMetrics,
  waitIdle,
} from "./_svc_metrics.ts";
import { checkWebCase } from "./_web_check.ts";

/** How long and how hard to load. */
export interface MeasureOptions {
  readonly node: string;
  /** The Go ping-pong client (bidi-pingpong-go), or null when it did not build. */
  readonly goPingpong: string | null;
  readonly tmp: string;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** The warm-up of the fixed-rate cases (`rate` set): see Options.warmupFixedRate. */
  readonly warmupFixedRateSeconds: number;
  readonly startTimeoutMs: number;
  /** Seconds of the strace pass after the cases (0: none); see {@link SYSCALL_CASE}. */
  readonly syscallSeconds: number;
  /** Seconds to wait after the last case before reading memory again (0: no reading). */
  readonly settleSeconds?: number;
}

/** The case the syscalls-per-response pass loads with. */
export const SYSCALL_CASE = "unary-small";
/** How long after its first call, settled, a server's idle memory is read. */
export const IDLE_READ_AFTER_MS = 3_000;

/** One case measured on one process. */
export interface CaseSample {
  /** Calls (round trips for ping-pong) per second. */
  readonly rate: number;
  readonly calls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** h2load cases: p99.9 and the slowest call, ms (absent in older results files). */
  readonly p999Ms?: number;
  readonly maxMs?: number;
  /** Fixed-rate cases: the calls/s offered. */
  readonly targetRate?: number;
  /** The server's VmRSS right at the end of the measured run, MiB. */
  readonly rssEndMiB?: number;
  /**
   * Milliseconds per second of the measured run the server's main thread was
   * runnable but not running: the core was busy with something else. High
   * values mean the latencies measured the machine, not the server.
   */
  readonly runQueueMsPerS?: number;
  /** Server CPU (user + system, all threads) per call, in µs. */
  readonly cpuUsPerCall: number;
  /**
   * Seconds the server stayed busy after the warm-up and after the measured
   * run stopped (calls cut off mid-stream), before it went idle.
   */
  readonly settleSeconds: readonly [number, number];
  /** How gRPC-level success was confirmed. */
  readonly verified: string;
}

/** Everything measured on one process. */
export interface ProcessRun {
  readonly contender: string;
  readonly rep: number;
  coldStartMs: number | null;
  readonly cases: Record<string, CaseSample>;
  /** After the last case; `anon` (RssAnon) is absent in older results files. */
  memory: { rss: number; hwm: number; anon?: number } | null;
  /**
   * RSS and HWM once started and idle, before any case's load (the
   * cold-start probe's one call is behind it, and {@link IDLE_READ_AFTER_MS}
   * of calm since session 12; before, it was read at once); absent in older
   * results files.
   */
  idleMemory?: { rss: number; hwm: number; anon?: number } | null;
  /**
   * The same, `settleSeconds` after the last case, the process idle: what
   * it gives back once the load is over (absent in older results files).
   */
  settledMemory?: { rss: number; hwm: number; anon?: number } | null;
  /** The idle-connections case, run before the load cases. */
  idleConnections?: IdleConnectionsSample | null;
  /** Syscalls per response, counted after the cases (absent in older results files). */
  syscalls?: SyscallSample | null;
  /** Why the syscall pass failed; not a bench failure (it measures nothing the targets use). */
  syscallsError?: string | null;
  readonly errors: string[];
}

/**
 * Starts `contender`, measures those of `cases` it serves on it, stops it.
 * Never throws; errors are recorded.
 */
export async function measureProcess(
  contender: Contender,
  allCases: readonly BenchCase[],
  rep: number,
  options: MeasureOptions,
): Promise<ProcessRun> {
  // A gRPC-only server has no answer to the web cases (and connect-node's
  // contender is there for those only): they are not its to run.
  const cases = allCases.filter((c) => servesCase(contender, c));
  const idle = cases.filter((c) => c.driver === "idle-connections");
  const loads = cases.filter((c) => c.driver !== "idle-connections");
  if (idle.length && loads.length) {
    // A process of its own: a server that held 1,000 connections keeps some
    // of their memory (Go's heap, malloc's arenas), which would change every
    // RSS reading after the load cases.
    const held = await measureProcess(contender, idle, rep, options);
    const run = await measureProcess(contender, loads, rep, options);
    run.idleConnections = held.idleConnections;
    run.errors.push(...held.errors);
    return run;
  }
  const result: ProcessRun = {
    contender: contender.name,
    rep,
    coldStartMs: null,
    cases: {},
    memory: null,
    idleMemory: null,
    idleConnections: null,
    syscalls: null,
    syscallsError: null,
    errors: [],
  };
  const port = freePort();
  const adminPort = freePort();
  const log = join(options.tmp, `${contender.name}-${rep}.log`);
  const probe = startPiped(
    [options.node, join(NODE_DIR, "coldstart.mjs"), String(port), String(options.startTimeoutMs)],
    { cpu: LOAD_CPU, cwd: ROOT },
  );
  let server: ReturnType<typeof startLogged> | null = null;
  try {
    const ready = await within(probe.lines.next(), 10_000, "cold-start probe");
    if (ready.value !== "ready") throw new Error(`cold-start probe said ${ready.value}`);
    const { cmd, env } = contender.command(port, adminPort);
    const t0 = performance.now();
    server = startLogged(cmd, { cpu: SERVER_CPU, log, cwd: ROOT, env });
    let dead = false;
    const exited = server.child.status.then((s) => {
      dead = true;
      return `exited with code ${s.code}`;
    });
    const answer = await Promise.race([probe.lines.next().then((l) => l.value ?? "eof"), exited]);
    if (!answer.startsWith("ok")) throw new Error(`did not answer: ${answer}`);
    result.coldStartMs = performance.now() - t0;
    if (contender.svc) await waitForMetrics(adminPort);
    await cpuSettled(server.pid);
    // Idle is a state a process stays in: read it a few seconds on, after
    // what a server does once it is calm (svc hands back its executable's
    // start-up pages two calm seconds in), not in the first instant.
    await new Promise((resolve) => setTimeout(resolve, IDLE_READ_AFTER_MS));
    result.idleMemory = memoryMiB(server.pid);
    // Before any load (on a process of its own when there is a load),
    // while the heap is small: the connections' cost is not lost in the
    // garbage a load leaves behind.
    for (const benchCase of idle) {
      try {
        result.idleConnections = await measureIdleConnections(benchCase, server.pid, port);
      } catch (error) {
        result.errors.push(`${benchCase.name}: ${(error as Error).message}`);
      }
      if (dead) throw new Error("the server died");
    }
    for (const benchCase of loads) {
      try {
        result.cases[benchCase.name] = await measureCase(benchCase, server.pid, port, {
          ...options,
          adminPort: contender.svc ? adminPort : null,
        });
      } catch (error) {
        result.errors.push(`${benchCase.name}: ${(error as Error).message}`);
      }
      if (dead) throw new Error("the server died");
    }
    result.memory = memoryMiB(server.pid);
    if (options.settleSeconds && loads.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, options.settleSeconds! * 1000));
      result.settledMemory = memoryMiB(server.pid);
    }
    // Last, after memory: strace slows the server, and nothing recorded
    // above may see that. The same process, already warm on this case,
    // saves a start and a warm-up per contender.
    const unary = cases.find((c) => c.name === SYSCALL_CASE);
    if (options.syscallSeconds > 0 && unary && result.cases[unary.name]) {
      try {
        await cpuSettled(server.pid);
        const load = createLoad(unary, port, options);
        result.syscalls = await countSyscalls(server.pid, load, options.syscallSeconds);
      } catch (error) {
        result.syscallsError = (error as Error).message;
      }
      if (dead) throw new Error("the server died under strace");
    }
  } catch (error) {
    result.errors.push((error as Error).message);
  } finally {
    await stop(probe.child);
    if (server) await stop(server.child);
    if (result.errors.length && server) result.errors.push(`log ${log}:\n${tail(log)}`);
    else await Deno.remove(log).catch(() => {});
  }
  return result;
}

async function waitForMetrics(adminPort: number): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      await scrape(adminPort);
      return;
    } catch (error) {
      if (Date.now() > until) throw new Error(`/metrics: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

type CaseOptions = MeasureOptions & { adminPort: number | null };

async function measureCase(
  benchCase: BenchCase,
  pid: number,
  port: number,
  options: CaseOptions,
): Promise<CaseSample> {
  const load = createLoad(benchCase, port, options);
  await load(
    benchCase.rate === undefined ? options.warmupSeconds : options.warmupFixedRateSeconds,
  );
  // Calls cut off when the load stopped can keep the server busy; let that
  // pass before measuring, so it is not charged to the next run.
  const settle = await cpuSettled(pid);
  const { adminPort } = options;
  let before: MethodCounts | null = null;
  if (adminPort !== null) {
    await waitIdle(adminPort);
    before = methodCounts(await scrape(adminPort), benchCase.method, benchCase.service);
  }
  const cpu0 = cpuSeconds(pid);
  const queued0 = runQueueSeconds(pid);
  const wall0 = performance.now();
  const measured = await load(options.seconds);
  const cpu1 = cpuSeconds(pid);
  const queued1 = runQueueSeconds(pid);
  const wallSeconds = (performance.now() - wall0) / 1000;
  const rssEndMiB = memoryMiB(pid).rss;
  if (measured.calls === 0) throw new Error("no call succeeded");
  const settleAfter = await cpuSettled(pid);
  let verified = "";
  if (adminPort !== null && before) {
    await waitIdle(adminPort);
    const after = methodCounts(await scrape(adminPort), benchCase.method, benchCase.service);
    verified = verifyMetrics(benchCase, before, after, measured);
  }
  verified += benchCase.protocol === "grpc"
    ? await checkWithClient(port, options.node, benchCase.method === "Collect")
    : await checkWebCase(benchCase, port, options, measured);
  return {
    rate: measured.rate,
    calls: measured.calls,
    p50Ms: measured.p50Ms,
    p99Ms: measured.p99Ms,
    ...(measured.p999Ms === undefined ? {} : { p999Ms: measured.p999Ms, maxMs: measured.maxMs }),
    ...(benchCase.rate === undefined ? {} : { targetRate: benchCase.rate }),
    rssEndMiB,
    runQueueMsPerS: (queued1 - queued0) * 1000 / wallSeconds,
    cpuUsPerCall: (cpu1 - cpu0) * 1e6 / measured.calls,
    settleSeconds: [settle, settleAfter],
    verified,
  };
}

async function checkWithClient(port: number, node: string, collect: boolean): Promise<string> {
  // Collect only on its own case: a baseline svc without it skips that case (servesCase).
  const args = [String(port), PROTO, ...(collect ? ["collect"] : [])];
  const out = await run([node, join(NODE_DIR, "check.mjs"), ...args], {
    cpu: LOAD_CPU,
    timeoutMs: 30_000,
  });
  const said = out.stdout.trim();
  if (out.code !== 0 || said !== "ok") {
    throw new Error(`check client: ${said || out.stderr.trim()}`);
  }
  return "grpc-js client check ok";
}
