/**
 * `server.yieldHelperThreads`: a running svc puts V8's helper threads at
 * nice 19 while its event loop has time to spare, gives them their share
 * back while calls keep the loop busy (load.Work/Burn, 5 ms of CPU each,
 * from h2load), and lowers them again once the load stops. Switched off,
 * nothing is touched. Priorities are read from /proc, as the kernel's
 * scheduler sees them.
 */
import assert from "node:assert/strict";
import { h2loadGrpc, h2loadMissing } from "./_h2load.ts";
import { ROOT, startSvc, type SvcProcess, TEST_TRANSPORT } from "./_harness.ts";
import { isHelper, parseThreadStat, YIELDING_NICE } from "../runtime/overload/helper_priority.ts";

const CONFIG = `${ROOT}/tests/fixtures/overload/svc.yaml`;
const YIELD = "V8 helper threads yield";
const SHARE = "V8 helper threads share the core";

/** CAP_SYS_NICE in this process's effective set: what svc needs to raise a priority back. */
function maySetPriorityBack(): boolean {
  if (Deno.build.os !== "linux") return false;
  const caps = /^CapEff:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
  return caps !== undefined && (BigInt(`0x${caps}`) & (1n << 23n)) !== 0n;
}

/** `pid`'s threads: the V8 helpers' nice values and the others'. */
function niceOf(pid: number): { helpers: number[]; others: number[] } {
  const helpers: number[] = [];
  const others: number[] = [];
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/stat`);
    } catch {
      continue; // ended meanwhile
    }
    const thread = parseThreadStat(Number(entry.name), text);
    if (thread) (isHelper(thread) ? helpers : others).push(thread.nice);
  }
  return { helpers, others };
}

function start(env: Record<string, string> = {}): Promise<SvcProcess> {
  return startSvc({ config: CONFIG, env: { SVC_LOGGING_LEVEL: "debug", ...env } });
}

/** load.Work/Burn { cpu_us: 5000 } with gRPC's prefix: each call holds the loop 5 ms. */
const BURN_5MS = new Uint8Array([0, 0, 0, 0, 3, 0x08, 0x88, 0x27]);

/** Calls Burn from h2load until `signal` aborts (or 20 s). */
async function burnUntil(port: number, signal: AbortSignal): Promise<void> {
  const url = `http://127.0.0.1:${port}/load.Work/Burn`;
  try {
    await h2loadGrpc(
      url,
      BURN_5MS,
      ["-D20s", "-c2", "-m4"],
      AbortSignal.any([signal, AbortSignal.timeout(25_000)]),
    );
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

Deno.test({
  name: "svc's V8 helpers yield when idle, share while calls keep the loop busy, and yield again",
  ignore: h2loadMissing || !maySetPriorityBack(),
  async fn() {
    await using svc = await start();
    await svc.waitForLog((l) => l.msg === YIELD, 5_000);
    const idle = niceOf(svc.pid);
    assert.ok(idle.helpers.length > 0, "V8's helpers are found");
    assert.deepEqual(new Set(idle.helpers), new Set([YIELDING_NICE]), JSON.stringify(idle));
    assert.deepEqual(new Set(idle.others), new Set([0]), "the event loop and the rest untouched");

    const stopLoad = new AbortController();
    const load = burnUntil(svc.port, stopLoad.signal);
    try {
      await svc.waitForLog((l) => l.msg === SHARE, 15_000);
      assert.deepEqual(new Set(niceOf(svc.pid).helpers), new Set([0]));
    } finally {
      stopLoad.abort();
      await load;
    }
    // Calm again: the next look lowers them.
    const yields = () => svc.logs().filter((l) => l.msg === YIELD).length;
    await svc.waitForLog(() => yields() === 2, 5_000);
    assert.deepEqual(new Set(niceOf(svc.pid).helpers), new Set([YIELDING_NICE]));
  },
});

Deno.test({
  name: "with yieldHelperThreads off, svc leaves its threads' priorities alone",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using svc = await start({ SVC_SERVER_YIELD_HELPER_THREADS: "false" });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const { helpers, others } = niceOf(svc.pid);
    assert.deepEqual(new Set([...helpers, ...others]), new Set([0]));
    assert.ok(!svc.logs().some((l) => l.msg === YIELD || l.msg === SHARE), svc.stderr());
  },
});

Deno.test({
  name: "with two workers, one watch (the supervisor's) lowers the process's helpers",
  // Workers need the native transport (the suite also runs on the grpc-js fallback).
  ignore: !maySetPriorityBack() || TEST_TRANSPORT !== "native",
  async fn() {
    await using svc = await start({ SVC_SERVER_WORKERS: "2" });
    await svc.waitForLog((l) => l.msg === YIELD, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(svc.logs().filter((l) => l.msg === YIELD).length, 1, "one watch");
    const { helpers, others } = niceOf(svc.pid);
    assert.deepEqual(new Set(helpers), new Set([YIELDING_NICE]));
    assert.deepEqual(new Set(others), new Set([0]));
  },
});
