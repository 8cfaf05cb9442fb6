import assert from "node:assert/strict";
import {
  HELPER_CHECK_MS,
  isHelper,
  parseThreadStat,
  processThreads,
  startHelperPriority,
  type ThreadControl,
  type ThreadStat,
  YIELDING_NICE,
} from "./helper_priority.ts";
import { createLogger } from "../log/mod.ts";

const log = createLogger({ level: "error", format: "json" });

/** This process's threads; svc's tests run with FFI and /proc. */
function ownThreads(): ThreadControl {
  const control = processThreads();
  if ("skipped" in control) throw new Error(control.skipped);
  return control;
}

Deno.test("parseThreadStat reads the name, CPU ticks and nice, whatever the name holds", () => {
  const line = "4242 (V8 DefaultWorke) S 1 4242 4242 0 -1 4194368 10 0 0 0 " +
    "7 3 0 0 39 19 12 0 100 0 0";
  assert.deepEqual(parseThreadStat(4242, line), {
    tid: 4242,
    name: "V8 DefaultWorke",
    cpuTicks: 10,
    nice: 19,
  });
  const odd = "7 (a) (b c) R 1 7 7 0 -1 0 0 0 0 0 25 5 0 0 20 0 1 0 1 0 0";
  assert.deepEqual(parseThreadStat(7, odd)?.name, "a) (b c");
  assert.deepEqual(parseThreadStat(7, odd)?.cpuTicks, 30);
  assert.deepEqual(parseThreadStat(7, "garbage"), null);
});

Deno.test("this process's V8 helper threads are found in /proc", async () => {
  const control = ownThreads();
  try {
    const threads = await listed(control);
    assert.ok(threads.some((t) => t.tid === Deno.pid && !isHelper(t)), "the main thread");
    assert.ok(threads.some(isHelper), "V8's platform workers");
  } finally {
    control.close?.();
  }
});

/** Every thread `control` lists, with its stat. */
async function listed(control: ThreadControl): Promise<ThreadStat[]> {
  const all = await Promise.all((await control.tids()).map((tid) => control.stat(tid)));
  return all.filter((t): t is ThreadStat => t !== null);
}

/** Threads whose CPU time a test sets; records every priority change. */
function scriptedThreads() {
  const threads = new Map<number, { name: string; cpuTicks: number; nice: number }>([
    [1, { name: "deno", cpuTicks: 0, nice: 0 }],
    [2, { name: "V8 DefaultWorke", cpuTicks: 0, nice: 0 }],
    [3, { name: "V8 DefaultWorke", cpuTicks: 0, nice: 0 }],
    [4, { name: "tokio-runtime-w", cpuTicks: 0, nice: 0 }],
  ]);
  const changes: [number, number][] = [];
  const reads: number[] = [];
  let refuseRaise = false;
  const control: ThreadControl = {
    tids: () => Promise.resolve([...threads.keys()]),
    ownTid: () => 1,
    stat(tid) {
      reads.push(tid);
      const thread = threads.get(tid);
      return Promise.resolve(thread ? { tid, ...thread } : null);
    },
    setNice(tid, nice) {
      const thread = threads.get(tid)!;
      if (refuseRaise && nice < thread.nice) return false;
      changes.push([tid, nice]);
      thread.nice = nice;
      return true;
    },
  };
  return {
    control,
    changes,
    reads,
    threads,
    refuseRaise: () => (refuseRaise = true),
    /** `tid` used `cores` of a core for `ms`. */
    busy(tid: number, cores: number, ms: number) {
      threads.get(tid)!.cpuTicks += Math.round((cores * ms) / 10);
    },
  };
}

Deno.test("helpers yield while the busiest thread uses under half a core, and share over 0.7", async () => {
  const scripted = scriptedThreads();
  let clock = 0;
  const watch = await startHelperPriority({
    log,
    control: scripted.control,
    now: () => clock,
    timer: false,
  });
  assert.ok(!("skipped" in watch));
  const look = async (cores: number) => {
    clock += HELPER_CHECK_MS;
    scripted.busy(1, cores, HELPER_CHECK_MS);
    await watch.check();
  };
  const helperNice = () => [scripted.threads.get(2)!.nice, scripted.threads.get(3)!.nice];

  scripted.reads.length = 0;
  await look(0.2);
  assert.ok(watch.yielding);
  assert.deepEqual(scripted.reads, [1], "a look reads the event loop's stat alone");
  assert.deepEqual(helperNice(), [YIELDING_NICE, YIELDING_NICE]);
  assert.deepEqual(scripted.threads.get(1)!.nice, 0, "the event loop is never touched");
  assert.deepEqual(scripted.threads.get(4)!.nice, 0);
  // Between the two bars nothing changes either way.
  await look(0.6);
  assert.ok(watch.yielding);
  await look(0.9);
  assert.ok(!watch.yielding);
  assert.deepEqual(helperNice(), [0, 0]);
  await look(0.6);
  assert.ok(!watch.yielding, "a loop at 0.6 keeps its helpers sharing");
  // A helper's own CPU time does not count as the loop's.
  scripted.busy(2, 1, HELPER_CHECK_MS);
  await look(0.1);
  assert.ok(watch.yielding);
  // A helper V8 starts later yields too.
  scripted.threads.set(5, { name: "V8 DefaultWorke", cpuTicks: 0, nice: 0 });
  await look(0.1);
  assert.deepEqual(scripted.threads.get(5)!.nice, YIELDING_NICE);
  assert.deepEqual(watch.switches, 3);
  watch.stop();
  assert.deepEqual(
    [...helperNice(), scripted.threads.get(5)!.nice],
    [0, 0, 0],
    "stop restores them",
  );
});

Deno.test("nothing is lowered when the kernel would not let the priority back up", async () => {
  const scripted = scriptedThreads();
  scripted.refuseRaise();
  const watch = await startHelperPriority({ log, control: scripted.control, timer: false });
  assert.ok("skipped" in watch);
  assert.ok(watch.skipped.includes("CAP_SYS_NICE"), watch.skipped);
  // The probe's one step down is all that happened: nice 1, not 19.
  assert.deepEqual(scripted.changes, [[2, 1]]);
});

/** This process's helper threads' nice values, from /proc. */
async function ownHelperNice(): Promise<number[]> {
  const control = ownThreads();
  try {
    return (await listed(control)).filter(isHelper).map((t) => t.nice);
  } finally {
    control.close?.();
  }
}

/** CAP_SYS_NICE (bit 23) in this process's effective set: CI's root has it, a developer's shell may not. */
function maySetPriorityBack(): boolean {
  const status = Deno.readTextFileSync("/proc/self/status");
  const caps = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return caps !== undefined && (BigInt(`0x${caps}`) & (1n << 23n)) !== 0n;
}

Deno.test({
  name: "on this process: idle, its helpers go to nice 19; a busy event loop brings them back",
  ignore: Deno.build.os !== "linux" || !maySetPriorityBack(),
}, async () => {
  const watch = await startHelperPriority({ log });
  assert.ok(!("skipped" in watch), "skipped" in watch ? watch.skipped : "");
  try {
    const deadline = Date.now() + 5_000;
    while (!watch.yielding && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(watch.yielding, "yielding within 5 s of an idle loop");
    assert.ok((await ownHelperNice()).every((nice) => nice === YIELDING_NICE));
    // Keep the event loop busy in 40 ms slices, giving the watch's timer its turns.
    const until = Date.now() + 5_000;
    while (watch.yielding && Date.now() < until) {
      const slice = performance.now() + 40;
      while (performance.now() < slice) { /* spin: the loop is the busy thread */ }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.ok(!watch.yielding, "sharing again within 5 s of a busy loop");
    assert.ok((await ownHelperNice()).every((nice) => nice === 0));
  } finally {
    watch.stop();
  }
  assert.ok((await ownHelperNice()).every((nice) => nice === 0), "and stop leaves them at 0");
});
