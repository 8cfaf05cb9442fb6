import assert from "node:assert/strict";
import { resolveConfig } from "../config/resolve.ts";
import { makeProject } from "../config/_testing.ts";
import { AdaptiveBreaker, BREAKER_DEFAULTS, type BreakerOptions } from "./breaker.ts";

/** A seeded PRNG (mulberry32), so every simulated run reproduces. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Equal up to float rounding (the ratio is computed in a different order). */
function assertNear(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, message ?? `${actual} is not ${expected}`);
}

/** A breaker on a clock the test moves by hand (`clock.ms`). */
function manualBreaker(options: Partial<BreakerOptions> & { random?: () => number } = {}) {
  const clock = { ms: 100_000 };
  const breaker = new AdaptiveBreaker({
    windowMs: 2_000,
    k: 2,
    minRequests: 0,
    buckets: 5,
    now: () => clock.ms,
    ...options,
  });
  return { clock, breaker };
}

// ---------------------------------------------------------------------------
// The simulation: calls at a steady rate to a dependency failing a given
// share of them, answering after 10 ms; the breaker on a fake clock.

interface Phase {
  /** How long the phase lasts, ms. */
  ms: number;
  /** Share of the attempts the dependency fails, 0..1. */
  failing: number;
}

/** The outcome of each simulated call: when (ms from the start) and whether it went out. */
interface Simulated {
  at: Float64Array;
  letThrough: Uint8Array;
  rejections: number;
}

const LATENCY_MS = 10;

function simulate(ratePerSecond: number, phases: readonly Phase[], seed: number): Simulated {
  const start = 1_000_000;
  let now = start;
  const breaker = new AdaptiveBreaker({
    ...BREAKER_DEFAULTS,
    now: () => now,
    random: seeded(seed),
  });
  const dependency = seeded(seed * 7919 + 1);
  const totalMs = phases.reduce((sum, phase) => sum + phase.ms, 0);
  const calls = Math.floor((totalMs * ratePerSecond) / 1000);
  const at = new Float64Array(calls);
  const letThrough = new Uint8Array(calls);
  // Answers arrive in order: one latency for all.
  const answers: { due: number; accepted: boolean }[] = [];
  let phase = 0;
  let phaseEnd = phases[0].ms;
  for (let i = 0; i < calls; i++) {
    const t = (i * 1000) / ratePerSecond;
    while (t >= phaseEnd) phaseEnd += phases[++phase].ms;
    now = start + t;
    while (answers.length > 0 && answers[0].due <= now) breaker.record(answers.shift()!.accepted);
    at[i] = t;
    if (breaker.allow()) {
      letThrough[i] = 1;
      answers.push({ due: now + LATENCY_MS, accepted: dependency() >= phases[phase].failing });
    }
  }
  return { at, letThrough, rejections: breaker.rejections };
}

/** Share of the calls in [fromMs, toMs) that went out. */
function shareLetThrough(run: Simulated, fromMs: number, toMs: number): number {
  let calls = 0;
  let through = 0;
  for (let i = 0; i < run.at.length; i++) {
    if (run.at[i] < fromMs || run.at[i] >= toMs) continue;
    calls++;
    through += run.letThrough[i];
  }
  return through / calls;
}

/** The shares of consecutive slices of `sliceMs` from `fromMs` up to `toMs`. */
function sliceShares(run: Simulated, fromMs: number, toMs: number, sliceMs: number): number[] {
  const shares: number[] = [];
  for (let t = fromMs; t + sliceMs <= toMs + 1e-9; t += sliceMs) {
    shares.push(shareLetThrough(run, t, t + sliceMs));
  }
  return shares;
}

function firstRejectionAfter(run: Simulated, fromMs: number): number {
  for (let i = 0; i < run.at.length; i++) {
    if (run.at[i] >= fromMs && run.letThrough[i] === 0) return run.at[i];
  }
  return Infinity;
}

const RATES = [20, 100, 500] as const;
const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const HEALTHY = 0;
const DOWN = 1;

Deno.test("AdaptiveBreaker (simulated): an outage opens it within 1.5 s, then under 10 % go out, and over 90 % 3 s after it heals", () => {
  const outageStart = 10_000;
  const outageEnd = 30_000;
  for (const rate of RATES) {
    // A share is only as fine as its calls: at 20/s a 1 s slice is 20 calls, one
    // forced probe alone 5 %, so shares are taken over slices of at least 100 calls
    // (outage) or 20 calls (recovery).
    const outageSlice = Math.max(1_000, (100 * 1000) / rate);
    const recoverySlice = Math.max(250, (20 * 1000) / rate);
    for (const seed of SEEDS) {
      const run = simulate(rate, [
        { ms: outageStart, failing: HEALTHY },
        { ms: outageEnd - outageStart, failing: DOWN },
        { ms: 10_000, failing: HEALTHY },
      ], seed);
      const where = `${rate} calls/s, seed ${seed}`;
      assert.equal(firstRejectionAfter(run, 0), firstRejectionAfter(run, outageStart), where);

      const opened = firstRejectionAfter(run, outageStart);
      assert.ok(opened - outageStart <= 1_500, `${where}: opened ${opened - outageStart} ms in`);
      const during = sliceShares(run, opened + 1_000, outageEnd, outageSlice);
      assert.ok(during.length >= 3, where);
      for (const share of during) {
        assert.ok(share < 0.1, `${where}: ${share} let through while down: ${during}`);
      }

      const after = sliceShares(run, outageEnd + 3_000, outageEnd + 10_000, recoverySlice);
      for (const share of after) {
        assert.ok(share > 0.9, `${where}: only ${share} let through 3 s after healing: ${after}`);
      }
    }
  }
});

Deno.test("AdaptiveBreaker (simulated): a dependency failing 30 % is rarely rejected, one failing 60 % mostly", () => {
  for (const rate of RATES) {
    let rejected30 = 0;
    let rejected60 = 0;
    for (const seed of SEEDS) {
      const phases = (failing: number) => [
        { ms: 2_000, failing: HEALTHY },
        { ms: 60_000, failing },
      ];
      rejected30 += 1 - shareLetThrough(simulate(rate, phases(0.3), seed), 2_000, 62_000);
      rejected60 += 1 - shareLetThrough(simulate(rate, phases(0.6), seed), 2_000, 62_000);
    }
    rejected30 /= SEEDS.length;
    rejected60 /= SEEDS.length;
    // Measured: 0.07 % at 20/s, none at 100 and 500/s. K = 2 sheds from 50 % failing.
    assert.ok(rejected30 < 0.005, `${rate} calls/s, 30 % failing: ${rejected30} rejected`);
    assert.ok(rejected60 > 0.5, `${rate} calls/s, 60 % failing: only ${rejected60} rejected`);
  }
});

Deno.test("AdaptiveBreaker (simulated): never rejects a healthy dependency, at any rate", () => {
  for (const rate of [1, 4, ...RATES]) {
    const run = simulate(rate, [{ ms: 30_000, failing: HEALTHY }], 1);
    assert.equal(run.rejections, 0, `${rate} calls/s`);
  }
});

Deno.test("AdaptiveBreaker (simulated): rejects nothing while the window holds fewer than minRequests", () => {
  // 4 calls/s: at most 9 requests in a 2 s window (minRequests 10), even with all failing.
  for (const seed of SEEDS) {
    const run = simulate(4, [{ ms: 60_000, failing: DOWN }], seed);
    assert.equal(run.rejections, 0, `seed ${seed}`);
  }
  // The control: from 5 calls/s the window reaches minRequests and a dead dependency is shed.
  const run = simulate(6, [{ ms: 60_000, failing: DOWN }], 1);
  assert.ok(shareLetThrough(run, 10_000, 60_000) < 0.5, `${run.rejections} rejected`);
});

// ---------------------------------------------------------------------------
// The formula, the window, the forced pass, one step at a time.

Deno.test("AdaptiveBreaker.dropRatio follows (requests − K × accepts) / (requests + 1)", () => {
  const { breaker } = manualBreaker({ random: () => 0.999 });
  assert.equal(breaker.dropRatio, 0);
  for (let i = 0; i < 3; i++) breaker.record(true);
  for (let i = 0; i < 7; i++) breaker.record(false);
  // 10 requests, 3 accepts: (10 − 6) / 11. The bucket has failures: no working discount.
  assertNear(breaker.dropRatio, 4 / 11);
  for (let i = 0; i < 3; i++) breaker.record(true);
  assertNear(breaker.dropRatio, (13 - 2 * 6) / 14);
  breaker.record(true);
  assert.equal(breaker.dropRatio, 0, "14 − 2 × 7 = 0: nothing to shed");
});

Deno.test("AdaptiveBreaker counts its rejections as requests, so a dead dependency stays shed", () => {
  const { breaker } = manualBreaker({ random: () => 0 });
  for (let i = 0; i < 4; i++) breaker.record(false);
  assertNear(breaker.dropRatio, 4 / 5);
  assert.equal(breaker.allow(), false);
  assert.equal(breaker.allow(), false);
  assert.equal(breaker.rejections, 2);
  assertNear(breaker.dropRatio, 6 / 7);
});

Deno.test("AdaptiveBreaker rejects when the random draw falls below dropRatio", () => {
  for (const [draw, allowed] of [[0.79, false], [0.81, true]] as const) {
    const { breaker } = manualBreaker({ random: () => draw });
    for (let i = 0; i < 4; i++) breaker.record(false);
    assertNear(breaker.dropRatio, 0.8);
    assert.equal(breaker.allow(), allowed, `draw ${draw}`);
    assert.equal(breaker.rejections, allowed ? 0 : 1);
  }
});

Deno.test("AdaptiveBreaker waits for minRequests in the window before rejecting", () => {
  const { breaker } = manualBreaker({ minRequests: 10, random: () => 0 });
  for (let i = 0; i < 9; i++) breaker.record(false);
  assert.equal(breaker.dropRatio, 0);
  assert.equal(breaker.allow(), true);
  breaker.record(false);
  assertNear(breaker.dropRatio, 10 / 11);
  assert.equal(breaker.allow(), false);
});

Deno.test("AdaptiveBreaker forgets outcomes older than the window, a bucket at a time", () => {
  const { clock, breaker } = manualBreaker({ random: () => 0 });
  clock.ms = 100_000; // the start of a 400 ms bucket
  for (let i = 0; i < 4; i++) breaker.record(false);
  clock.ms = 100_800; // two buckets on
  for (let i = 0; i < 4; i++) breaker.record(false);
  assertNear(breaker.dropRatio, 8 / 9);
  clock.ms = 100_000 + 1_999; // the first bucket is still the oldest of five
  assertNear(breaker.dropRatio, 8 / 9);
  clock.ms = 100_000 + 2_000;
  assertNear(breaker.dropRatio, 4 / 5);
  clock.ms = 100_800 + 1_999;
  assertNear(breaker.dropRatio, 4 / 5);
  clock.ms = 100_800 + 2_000;
  assert.equal(breaker.dropRatio, 0);
  clock.ms += 3_600_000; // a long quiet spell: every bucket is emptied, none twice
  assert.equal(breaker.dropRatio, 0);
  for (let i = 0; i < 4; i++) breaker.record(false);
  assertNear(breaker.dropRatio, 4 / 5);
});

Deno.test("AdaptiveBreaker discounts each working bucket by 1/buckets, so recovery is quick", () => {
  const { clock, breaker } = manualBreaker({ random: () => 0 });
  clock.ms = 100_000;
  for (let i = 0; i < 20; i++) breaker.record(false);
  const raw = (requests: number, accepts: number) => (requests - 2 * accepts) / (requests + 1);
  assertNear(breaker.dropRatio, raw(20, 0));
  clock.ms += 400;
  breaker.record(true); // a bucket with a success and no failure: working 1
  assertNear(breaker.dropRatio, raw(21, 1) * 4 / 5);
  clock.ms += 400;
  assertNear(breaker.dropRatio, raw(21, 1) * 4 / 5, "an empty bucket keeps the streak");
  breaker.record(true);
  assertNear(breaker.dropRatio, raw(22, 2) * 3 / 5);
  breaker.record(false); // a failure in the newest bucket ends the streak
  assertNear(breaker.dropRatio, raw(23, 2));
  clock.ms += 400;
  assertNear(breaker.dropRatio, raw(23, 2), "the failed bucket still ends it once closed");
});

Deno.test("AdaptiveBreaker lets one attempt through when none went out for a second", () => {
  const { clock, breaker } = manualBreaker({ random: () => 0 });
  for (let i = 0; i < 10; i++) breaker.record(false);
  clock.ms += 1_000; // exactly a second since construction, the last pass: not yet
  assert.equal(breaker.allow(), false);
  clock.ms += 1;
  assert.equal(breaker.allow(), true, "forced pass");
  assert.equal(breaker.allow(), false, "the next one waits another second");
  clock.ms += 1_001;
  assert.equal(breaker.allow(), true);
  assert.equal(breaker.rejections, 2);
});

Deno.test("AdaptiveBreaker survives a clock that goes back", () => {
  const { clock, breaker } = manualBreaker({ random: () => 0 });
  for (let i = 0; i < 4; i++) breaker.record(false);
  clock.ms -= 60_000;
  assertNear(breaker.dropRatio, 4 / 5, "counts stay in the newest bucket");
  breaker.record(false);
  assertNear(breaker.dropRatio, 5 / 6);
  clock.ms += 60_000 + 2_000;
  assert.equal(breaker.dropRatio, 0);
});

Deno.test("AdaptiveBreaker rejects options it cannot work with", () => {
  const base = { windowMs: 2_000, k: 2, minRequests: 10 };
  assert.throws(() => new AdaptiveBreaker({ ...base, windowMs: 0 }), RangeError);
  assert.throws(() => new AdaptiveBreaker({ ...base, windowMs: NaN }), RangeError);
  assert.throws(() => new AdaptiveBreaker({ ...base, k: 0.9 }), /k must be at least 1, got 0.9/);
  assert.throws(() => new AdaptiveBreaker({ ...base, minRequests: -1 }), RangeError);
  assert.throws(() => new AdaptiveBreaker({ ...base, buckets: 2.5 }), RangeError);
  assert.throws(() => new AdaptiveBreaker({ ...base, buckets: 0 }), RangeError);
});

Deno.test("BREAKER_DEFAULTS are the config schema's circuitBreaker defaults", async () => {
  await using project = await makeProject({ "proto/backend.proto": 'syntax = "proto3";\n' });
  const config = resolveConfig(
    "dependencies:\n  demo.Backend:\n    protos: [proto/backend.proto]\n",
    project.file,
  );
  const resolved = config.dependencies["demo.Backend"].circuitBreaker;
  assert.deepEqual(resolved, {
    enabled: true,
    window: BREAKER_DEFAULTS.windowMs,
    k: BREAKER_DEFAULTS.k,
    minRequests: BREAKER_DEFAULTS.minRequests,
  });
});
