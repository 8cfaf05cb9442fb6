/**
 * Syscalls per response: `strace -c -f` attached to a server for a short
 * extra unary-small load after its measured cases, and the table of them.
 *
 * Why strace and not /proc/PID/io: `syscw` there is free to read, but the
 * kernel bumps it only in the write(2)/writev(2) path, not for
 * sendto(2)/sendmsg(2) (tried on Linux 6.18: 1000 `send` calls on a TCP
 * socket left `syscw` at +0, 1000 `write` calls added 1000). Deno and the
 * native transport write sockets with `sendto`, Node with `writev`, grpc-go
 * with `write`, so `syscw` would compare unlike things. strace slows every
 * syscall, so it runs on a load nobody measures.
 * @module
 */
import { kill, LOAD_CPU, startCollected, within } from "./_process.ts";
import { stat, table } from "./_stats.ts";

/** Syscalls that send bytes (to a socket or a file). */
export const WRITE_SYSCALLS: readonly string[] = [
  "write",
  "writev",
  "sendto",
  "sendmsg",
  "sendmmsg",
];
/** Syscalls that receive bytes. */
export const READ_SYSCALLS: readonly string[] = [
  "read",
  "readv",
  "recvfrom",
  "recvmsg",
  "recvmmsg",
];

/** One strace pass on one process. */
export interface SyscallSample {
  /** Calls h2load completed while strace was attached. */
  readonly calls: number;
  /** Calls per second under strace (slower than the measured run). */
  readonly rate: number;
  /** Syscall name → count over the pass (errors such as EAGAIN included). */
  readonly counts: Record<string, number>;
}

/** The per-syscall counts of a `strace -c` summary (the "calls" column). */
export function parseStraceSummary(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split("\n")) {
    // % time, seconds, usecs/call, calls, [errors,] syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m && m[2] !== "total") counts[m[2]] = Number(m[1]);
  }
  return counts;
}

/** Why syscalls cannot be counted here, or null when strace is usable. */
export async function straceMissing(): Promise<string | null> {
  try {
    const out = await new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
      .output();
    return out.success ? null : "strace -V failed";
  } catch {
    return "strace is missing (apt-get install strace)";
  }
}

/**
 * Attaches `strace -c -f` to `pid` (all its threads), runs `load` for
 * `seconds`, detaches, and returns the write and read syscalls counted.
 */
export async function countSyscalls(
  pid: number,
  load: (seconds: number) => Promise<{ calls: number; rate: number }>,
  seconds: number,
): Promise<SyscallSample> {
  const strace = startCollected([
    "strace",
    "-c",
    "-f",
    "-q",
    "-e",
    `trace=${[...WRITE_SYSCALLS, ...READ_SYSCALLS].join(",")}`,
    "-p",
    String(pid),
  ], { cpu: LOAD_CPU });
  const output = strace.output();
  let calls = 0;
  let rate = 0;
  try {
    await tracedOrExited(pid, strace);
    ({ calls, rate } = await load(seconds));
  } finally {
    // SIGINT: strace detaches and prints its summary.
    try {
      strace.kill("SIGINT");
    } catch {
      // already exited (it failed to attach); its stderr says why
    }
  }
  const out = await within(output, 10_000, "strace").catch((error) => {
    kill(strace);
    throw error;
  });
  const text = new TextDecoder().decode(out.stderr);
  const counts = parseStraceSummary(text);
  if (!Object.keys(counts).length) throw new Error(`strace: ${text.trim().slice(-300)}`);
  if (calls === 0) throw new Error("no call succeeded under strace");
  return { calls, rate, counts };
}

/**
 * Waits until every thread of `pid` has a tracer, so the load starts with
 * strace counting; throws if strace exits first or takes over 5 s.
 */
async function tracedOrExited(pid: number, strace: Deno.ChildProcess): Promise<void> {
  let exited = false;
  strace.status.then(() => exited = true);
  const until = Date.now() + 5_000;
  while (!allTraced(pid)) {
    if (exited) throw new Error("strace exited before attaching");
    if (Date.now() > until) throw new Error("strace did not attach within 5 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function allTraced(pid: number): boolean {
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/status`);
      if (/^TracerPid:\s+0$/m.test(status)) return false;
    } catch {
      // the thread ended
    }
  }
  return true;
}

const sum = (counts: Record<string, number>, names: readonly string[]) =>
  names.reduce((n, name) => n + (counts[name] ?? 0), 0);

/**
 * The "syscalls per response" table: medians over the repetitions of
 * write-type and read-type syscalls per completed call, with the syscalls
 * behind them. Empty when no pass ran.
 */
export function renderSyscalls(
  contenders: readonly string[],
  runs: readonly {
    contender: string;
    syscalls?: SyscallSample | null;
    syscallsError?: string | null;
  }[],
  seconds: number,
): string {
  const body: string[][] = [];
  const failed: string[] = [];
  for (const contender of contenders) {
    const mine = runs.filter((r) => r.contender === contender);
    const samples = mine.map((r) => r.syscalls).filter((s): s is SyscallSample => !!s);
    for (const r of mine) if (r.syscallsError) failed.push(`${contender}: ${r.syscallsError}`);
    if (!samples.length) continue;
    const median = (names: readonly string[]) =>
      stat(samples.map((s) => sum(s.counts, names) / s.calls)).median;
    // A stray write (a startup log line) would print as "write 0.000": left out.
    const bySyscall = [...WRITE_SYSCALLS, ...READ_SYSCALLS]
      .map((name) => [name, median([name])] as const)
      .filter(([, n]) => n >= 0.0005);
    body.push([
      contender,
      median(WRITE_SYSCALLS).toFixed(3),
      median(READ_SYSCALLS).toFixed(3),
      bySyscall.map(([name, n]) => `${name} ${n.toFixed(3)}`).join(", "),
      Math.round(stat(samples.map((s) => s.rate)).median).toLocaleString("en-US"),
    ]);
  }
  if (!body.length && !failed.length) return "";
  const parts = [
    `**syscalls per response (unary-small)**: \`strace -c -f\` attached to each server for an extra ${seconds} s unary-small load after its measured cases (median of the repetitions; strace slows the server, so none of the tables above is measured under it). write-type: ${
      WRITE_SYSCALLS.join("/")
    }, read-type: ${
      READ_SYSCALLS.join("/")
    }, on every fd: for svc-native-builtins and svc-grpcjs-builtins \`write\` includes the access log's writes to stderr.\n`,
  ];
  if (body.length) {
    parts.push(table(
      ["contender", "write-type per call", "read-type per call", "by syscall", "calls/s traced"],
      body,
    ));
  }
  if (failed.length) parts.push(`\nnot counted: ${failed.join("; ")}`);
  return parts.join("\n") + "\n";
}
