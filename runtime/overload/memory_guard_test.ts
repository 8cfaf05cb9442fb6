import assert from "node:assert/strict";
import { RpcError, Status } from "../core/errors.ts";
import type { LogFields, Logger } from "../core/logger.ts";
import type { AdmissionFor } from "../server/admission.ts";
import type { TransportCall } from "../transport/types.ts";
import {
  admitFirst,
  CALM_AFTER_MS,
  HARD_SHARE,
  MemoryGuard,
  RECLAIM_EVERY_MS,
  SAMPLE_MS,
  SOFT_SHARE,
} from "./memory_guard.ts";
import { parseStatm } from "./memory_sampler.ts";

const MiB = 2 ** 20;
const LIMIT = 100 * MiB; // soft 65 MiB, hard 80 MiB
const IDLE = 10 * MiB;
const call = {} as TransportCall;

type Line = [string, string, LogFields | undefined];

/** A logger that keeps its lines. */
function recordingLog(lines: Line[]): Logger {
  const at = (level: string) => (msg: string, fields?: LogFields) => {
    lines.push([level, msg, fields]);
  };
  const log: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => log,
    enabled: () => true,
  };
  return log;
}

/**
 * A guard over memory the test sets, on a clock the test moves (a sample
 * is due at every call admitted ≥ SAMPLE_MS after the last); a forced GC
 * frees `garbage`, which `allocate` adds to.
 */
function guard(options: { reclaim?: boolean } = {}) {
  let live = IDLE;
  let garbage = 0;
  let now = 0;
  let reclaims = 0;
  const lines: Line[] = [];
  const budget = { refuseLarge: false };
  const g = new MemoryGuard({
    limitBytes: LIMIT,
    sample: () => live + garbage,
    reclaim: options.reclaim === false ? null : () => {
      reclaims++;
      garbage = 0;
    },
    log: recordingLog(lines),
    budget,
    clock: () => now,
    timer: false,
  });
  const gates = g.admissionFor((service) => service === "grpc.health.v1.Health");
  const work = gates({ service: "pkg.Work", kind: "unary" })!;
  return {
    g,
    lines,
    budget,
    work,
    health: gates({ service: "grpc.health.v1.Health", kind: "unary" }),
    get reclaims() {
      return reclaims;
    },
    /** Moves the clock on. */
    wait(ms: number) {
      now += ms;
    },
    /** Sets memory without a sample (the loop is busy: no timer runs). */
    set(liveBytes: number, garbageBytes = 0) {
      live = liveBytes;
      garbage = garbageBytes;
    },
    /** Calls now hold `liveBytes` in all, with `garbageBytes` of garbage; samples. */
    at(liveBytes: number, garbageBytes = 0, ms = SAMPLE_MS) {
      live = liveBytes;
      garbage = garbageBytes;
      now += ms;
      g.tick();
    },
    /** Admits a call, or returns the error it is refused with. */
    admit(): RpcError | null {
      try {
        work.admit(call);
        return null;
      } catch (error) {
        return error as RpcError;
      }
    },
  };
}

Deno.test("below the soft level the guard neither collects nor limits calls", () => {
  const t = guard();
  for (let i = 0; i < 100; i++) assert.equal(t.admit(), null);
  t.at(SOFT_SHARE * LIMIT - 1);
  assert.equal(t.reclaims, 0);
  assert.equal(t.g.shedding, false);
  assert.equal(t.g.cap, Infinity);
  assert.equal(t.g.inFlight, 100);
  assert.equal(t.g.used, SOFT_SHARE * LIMIT - 1);
});

Deno.test("at the soft level a GC is forced, at most every RECLAIM_EVERY_MS", () => {
  const t = guard();
  t.at(75 * MiB);
  assert.equal(t.reclaims, 1);
  t.at(75 * MiB, 0, RECLAIM_EVERY_MS - 100);
  assert.equal(t.reclaims, 1, "too soon for another");
  t.at(75 * MiB, 0, 100);
  assert.equal(t.reclaims, 2);
  assert.equal(t.g.forcedGcs, 2);
  assert.equal(t.g.full, false, "the soft level never refuses everything");
});

Deno.test("what a forced GC frees counts before the hard level is judged", () => {
  const t = guard();
  t.at(40 * MiB, 50 * MiB); // 90 MiB, 50 of them garbage
  assert.equal(t.reclaims, 1);
  assert.equal(t.g.used, 40 * MiB);
  assert.equal(t.g.full, false);
  assert.equal(t.g.peak, 90 * MiB, "the peak is what was sampled");
});

Deno.test("a GC measures what a call in flight costs, and new calls are paced to fit", () => {
  const t = guard();
  for (let i = 0; i < 6; i++) t.admit();
  // 6 calls: 10 MiB idle + 6 × 5 MiB live + 6 × 5 MiB garbage = 70 MiB at the GC.
  t.at(IDLE + 30 * MiB, 30 * MiB);
  assert.equal(t.g.perCall, 10 * MiB, "garbage included: it stays until the next GC");
  assert.equal(t.g.used, 40 * MiB);
  // Room under the soft level (65 MiB) for 2 more at 10 MiB each.
  assert.equal(t.g.cap, 8);
  assert.equal(t.g.shedding, true);
  for (let i = 0; i < 2; i++) assert.equal(t.admit(), null);
  const error = t.admit()!;
  assert.equal(error.code, Status.RESOURCE_EXHAUSTED);
  assert.match(error.message, /^memory limit: process at 40 of 100 MiB; retry with backoff/);
  assert.equal(t.g.rejections, 1);
  // Above the soft level settled calls are not replaced.
  t.at(IDLE + 45 * MiB, 20 * MiB);
  assert.equal(t.g.cap, 8 + Math.floor((65 - 75) / 10));
  assert.ok(t.g.cap < t.g.inFlight);
});

Deno.test("paced under the soft level: one call at a time still goes in, and a GC makes room", () => {
  const t = guard();
  for (let i = 0; i < 6; i++) t.admit();
  t.at(IDLE + 30 * MiB, 30 * MiB); // 10 MiB a call
  for (let i = 0; i < 6; i++) t.work.release(0);
  // The load is gone; 53 MiB of garbage stays, just under the soft level: room for 0.
  t.at(IDLE, 53 * MiB, RECLAIM_EVERY_MS);
  assert.equal(t.g.cap, 1, "one call at a time, not none");
  assert.equal(t.admit(), null);
  assert.ok(t.admit() !== null);
  const reclaims = t.reclaims;
  t.at(IDLE, 53 * MiB);
  assert.equal(t.reclaims, reclaims + 1, "refused for room that garbage takes: collected");
  assert.equal(t.g.used, IDLE);
  // Not measured by this GC; faded, as calls were refused with memory near idle.
  assert.equal(t.g.perCall, 0.8 * 10 * MiB);
  assert.ok(t.g.cap >= 6);
});

Deno.test("at the hard level every new call is refused until under the soft level", () => {
  const t = guard({ reclaim: false });
  for (let i = 0; i < 4; i++) t.admit();
  t.at(HARD_SHARE * LIMIT);
  assert.equal(t.g.full, true);
  assert.equal(t.budget.refuseLarge, true, "the memory budget refuses large requests too");
  assert.equal(t.admit()?.code, Status.RESOURCE_EXHAUSTED);
  assert.equal(t.health, null, "health has no gate");
  const warn = t.lines.filter(([level]) => level === "warn");
  assert.equal(warn.length, 1);
  assert.match(warn[0][1], /^memory limit: refusing new calls/);
  t.at(75 * MiB); // between the levels: still full (hysteresis)
  assert.equal(t.g.full, true);
  assert.match(t.admit()!.message, /process at 75 of 100 MiB/, "the message follows the samples");
  t.at(SOFT_SHARE * LIMIT - MiB);
  assert.equal(t.g.full, false);
  assert.equal(t.budget.refuseLarge, false);
  assert.equal(t.admit(), null, "no figure per call was measured: not paced");
  assert.equal(t.lines.filter(([level]) => level === "warn").length, 1, "one warn per spell");
});

Deno.test("while full, a GC runs as soon as half the calls in flight have settled", () => {
  const t = guard();
  const gate = t.work;
  for (let i = 0; i < 8; i++) t.admit();
  t.at(90 * MiB); // GC frees nothing: full
  assert.equal(t.reclaims, 1);
  assert.equal(t.g.full, true);
  for (let i = 0; i < 3; i++) gate.release(0);
  t.at(90 * MiB);
  assert.equal(t.reclaims, 1, "5 of 8 still in flight");
  gate.release(0);
  t.at(90 * MiB, 0);
  assert.equal(t.reclaims, 2, "4 of 8: what the others held is garbage");
});

Deno.test("pacing ends after CALM_AFTER_MS under the soft level with nothing refused", () => {
  const t = guard();
  for (let i = 0; i < 6; i++) t.admit();
  t.at(IDLE + 30 * MiB, 30 * MiB);
  t.admit(), t.admit();
  assert.ok(t.admit() !== null);
  for (let i = 0; i < 8; i++) t.work.release(0);
  t.at(IDLE);
  assert.equal(t.g.shedding, true, "a call was refused in the last sample");
  t.at(IDLE, 0, CALM_AFTER_MS - 1);
  assert.equal(t.g.shedding, true);
  t.at(IDLE, 0, 1);
  assert.equal(t.g.shedding, false);
  assert.equal(t.g.cap, Infinity);
  const info = t.lines.filter(([level]) => level === "info");
  assert.equal(info.at(-1)?.[1], "memory limit: accepting calls again");
  assert.equal(info.at(-1)?.[2]?.refused, 1);
});

Deno.test("a call admitted when the last sample is late samples first", () => {
  const t = guard({ reclaim: false });
  t.at(HARD_SHARE * LIMIT);
  assert.equal(t.g.full, true);
  // The loop is busy: no timer tick, but the calls settled and memory is back down.
  t.set(IDLE);
  t.wait(SAMPLE_MS - 1);
  assert.ok(t.admit() !== null, "sampled within SAMPLE_MS: that sample stands");
  t.wait(1);
  assert.equal(t.admit(), null, "a late sample is taken at admission");
  assert.equal(t.g.full, false);
  // And the other way: memory jumps while no timer runs.
  t.set(HARD_SHARE * LIMIT);
  t.wait(SAMPLE_MS);
  assert.equal(t.admit()?.code, Status.RESOURCE_EXHAUSTED);
});

Deno.test("a stopped guard no longer samples", () => {
  let samples = 0;
  const g = new MemoryGuard({
    limitBytes: LIMIT,
    sample: () => (samples++, IDLE),
    reclaim: null,
    log: recordingLog([]),
    timer: false,
  });
  g.stop();
  const before = samples;
  g.tick();
  assert.equal(samples, before);
});

Deno.test("admitFirst asks the memory gate first, and releases both", () => {
  const log: string[] = [];
  let refuseInner = false;
  const inner: AdmissionFor = (method) =>
    method.service === "health" ? null : {
      admit: () => {
        log.push("inner admit");
        if (refuseInner) throw new RpcError(Status.UNAVAILABLE, "overloaded");
        return 7;
      },
      release: (ticket) => log.push(`inner release ${ticket}`),
    };
  let refuse = false;
  const first: AdmissionFor = (method) =>
    method.service === "health" ? null : {
      admit: () => {
        log.push("first admit");
        if (refuse) throw new RpcError(Status.RESOURCE_EXHAUSTED, "no");
        return 0;
      },
      release: () => log.push("first release"),
    };
  const gates = admitFirst(first, inner);
  assert.equal(gates({ service: "health", kind: "unary" }), null);
  const gate = gates({ service: "pkg", kind: "unary" })!;
  gate.release(gate.admit(call));
  assert.deepEqual(log, ["first admit", "inner admit", "first release", "inner release 7"]);
  log.length = 0;
  refuse = true;
  assert.throws(() => gate.admit(call), /no/);
  assert.deepEqual(log, ["first admit"], "a refused call never reaches the overload limiter");
  log.length = 0;
  refuse = false;
  refuseInner = true;
  assert.throws(() => gate.admit(call), /overloaded/);
  assert.deepEqual(log, ["first admit", "inner admit", "first release"]);
  assert.equal(admitFirst(first), first);
});

Deno.test("parseStatm reads resident minus shared pages", () => {
  assert.equal(parseStatm("4722730 23436 15184 15268 0 154293 0\n", 4096), (23436 - 15184) * 4096);
});
