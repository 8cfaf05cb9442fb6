import assert from "node:assert/strict";
import { Status } from "../core/errors.ts";
import { type Balancing, type Instance, InstancePool } from "./balancer.ts";
import { DECAY_MS, PeerLoad } from "./p2c.ts";

/** No test here touches a channel: picking never makes one. */
const noChannels = (address: string): never => {
  throw new Error(`no channel expected for ${address}`);
};

/** A small seeded generator (mulberry32), so every run draws the same pairs. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** One call on `instance`, `ms` long, ending now. */
function call(pool: InstancePool, instance: Instance, ms: number) {
  pool.acquire(instance);
  pool.release(instance, Status.OK, ms);
}

/** The pool's two instances, `a:1` then `b:1`. */
function both(pool: InstancePool): [Instance, Instance] {
  const first = pool.pick()!;
  const second = pool.pick(first)!;
  return first.address === "a:1" ? [first, second] : [second, first];
}

interface Simulation {
  latencies: number[];
  /** When each call to the slow instance started. */
  slowStarts: number[];
}

/**
 * Eight callers calling back to back for `durationMs` on a fake clock:
 * two instances answer in 0.5-1.5 ms, `slow:1` 200 ms later.
 */
function simulate(balancing: Balancing, durationMs: number): Simulation {
  let now = 0;
  const pool = new InstancePool(noChannels, { balancing, now: () => now, random: seeded(7) });
  const jitter = seeded(11);
  pool.update(["fast-1:1", "fast-2:1", "slow:1"]);
  const latencies: number[] = [];
  const slowStarts: number[] = [];
  const callers: { instance: Instance; startedAt: number; endsAt: number }[] = [];
  const start = (caller: number) => {
    const instance = pool.pick()!;
    pool.acquire(instance);
    const slow = instance.address === "slow:1";
    if (slow) slowStarts.push(now);
    const ms = 0.5 + jitter() + (slow ? 200 : 0);
    callers[caller] = { instance, startedAt: now, endsAt: now + ms };
  };
  for (let caller = 0; caller < 8; caller++) start(caller);
  for (;;) {
    let next = 0;
    for (let c = 1; c < callers.length; c++) if (callers[c].endsAt < callers[next].endsAt) next = c;
    const { instance, startedAt, endsAt } = callers[next];
    if (endsAt > durationMs) break;
    now = endsAt;
    pool.release(instance, Status.OK, now - startedAt);
    latencies.push(now - startedAt);
    start(next);
  }
  pool.close();
  return { latencies, slowStarts };
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.99)];
}

Deno.test("PeerLoad takes the first sample whole and decays older ones with time", () => {
  const load = new PeerLoad(0);
  assert.equal(load.measured, false);
  load.record(100, 0);
  assert.equal(load.latencyMs, 100);
  // A sample 10 s (one decay time) later: the old average keeps weight e^-1.
  load.record(0, DECAY_MS);
  assert.ok(Math.abs(load.latencyMs - 100 * Math.exp(-1)) < 1e-9, `${load.latencyMs}`);
  // A sample at the same instant carries no time, so no weight.
  const before = load.latencyMs;
  load.record(1_000, DECAY_MS);
  assert.equal(load.latencyMs, before);
});

Deno.test("PeerLoad.value() is (latency + 1 ms) × (in flight + 1); unmeasured is 0 when idle, worst when busy", () => {
  const load = new PeerLoad(0);
  assert.equal(load.value(0), 0, "a new instance is the most attractive");
  const slowest = new PeerLoad(0);
  slowest.record(3_600_000, 0);
  assert.ok(load.value(1) > slowest.value(50), "but not while its first call is pending");
  assert.ok(load.value(2) > load.value(1), "unmeasured ones still compare by calls in flight");
  load.record(10, 0);
  assert.equal(load.value(3), 44);
});

Deno.test("InstancePool p2c sends well under 1% to an instance 200 ms slower, about once a second", () => {
  const p2c = simulate("p2c", 20_000);
  const share = p2c.slowStarts.length / p2c.latencies.length;
  assert.ok(share < 0.01, `slow share ${share} (${p2c.slowStarts.length} calls)`);
  // After the start (every instance is unmeasured then), the slow one is
  // re-measured once a second: never more often, and not much less.
  const steady = p2c.slowStarts.filter((t) => t >= 1_000);
  const gaps = steady.slice(1).map((t, i) => t - steady[i]);
  assert.ok(steady.length >= 17 && steady.length <= 20, `slow calls after 1 s: ${steady}`);
  for (const gap of gaps) assert.ok(gap > 1_000 && gap < 1_100, `gaps: ${gaps}`);

  const roundRobin = simulate("round_robin", 20_000);
  assert.ok(roundRobin.slowStarts.length / roundRobin.latencies.length > 0.1);
  assert.ok(p99(p2c.latencies) < 2, `p2c p99 ${p99(p2c.latencies)}`);
  assert.ok(p99(roundRobin.latencies) > 200, `round_robin p99 ${p99(roundRobin.latencies)}`);
});

Deno.test("InstancePool p2c re-measures a once-slow instance every second until it wins calls back", () => {
  let now = 0;
  const pool = new InstancePool(noChannels, {
    balancing: "p2c",
    now: () => now,
    random: seeded(1),
  });
  try {
    pool.update(["a:1", "b:1"]);
    const [a, b] = both(pool);
    call(pool, a, 1);
    call(pool, b, 500);
    const bPicks: number[] = [];
    for (now = 100; now <= 90_000; now += 100) {
      const instance = pool.pick()!;
      if (instance === b) bPicks.push(now);
      call(pool, instance, instance === b ? 0.5 : 1); // b is faster than a from now on
    }
    // b was last picked at 0: the first pick more than 1 s later is forced onto it,
    // and so on every 1.1 s while its EWMA (500 ms, fading with a 10 s time
    // constant) is still above a's.
    assert.deepEqual(bPicks.slice(0, 5), [1_100, 2_200, 3_300, 4_400, 5_500]);
    const lastTenSeconds = bPicks.filter((t) => t > 80_000).length;
    assert.ok(lastTenSeconds > 90, `b picked ${lastTenSeconds} of 100 times in the last 10 s`);
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool p2c prefers the instance with fewer calls in flight", () => {
  const now = 0;
  const pool = new InstancePool(noChannels, {
    balancing: "p2c",
    now: () => now,
    random: seeded(2),
  });
  try {
    pool.update(["a:1", "b:1"]);
    const [a, b] = both(pool);
    call(pool, a, 10);
    call(pool, b, 10);
    for (let i = 0; i < 3; i++) pool.acquire(a);
    for (let i = 0; i < 10; i++) assert.equal(pool.pick()!.address, "b:1");
    for (let i = 0; i < 4; i++) pool.acquire(b);
    // a: 11 ms × 4, b: 11 ms × 5.
    for (let i = 0; i < 10; i++) assert.equal(pool.pick()!.address, "a:1");
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool p2c probes a new instance once, then waits for its answer", () => {
  let now = 0;
  const pool = new InstancePool(noChannels, {
    balancing: "p2c",
    now: () => now,
    random: seeded(3),
  });
  try {
    pool.update(["a:1", "b:1"]);
    for (let i = 0; i < 10; i++) call(pool, pool.pick()!, 10);
    now = 100;
    pool.update(["a:1", "b:1", "c:1"]);
    let c: Instance | undefined;
    for (let i = 0; i < 20 && !c; i++) {
      const picked = pool.pick()!;
      if (picked.address === "c:1") c = picked;
      else call(pool, picked, 10);
    }
    assert.ok(c, "c, idle and unmeasured, wins the first pair it is in");
    pool.acquire(c);
    for (let i = 0; i < 30; i++) assert.notEqual(pool.pick()!.address, "c:1");
    pool.release(c, Status.OK, 2); // faster than a and b
    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const address = pool.pick()!.address;
      counts.set(address, (counts.get(address) ?? 0) + 1);
    }
    // c wins every pair it is in: about two thirds of picks.
    assert.ok((counts.get("c:1") ?? 0) >= 14, JSON.stringify([...counts]));
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool p2c does not count a stream's length as latency", () => {
  let now = 0;
  const pool = new InstancePool(noChannels, {
    balancing: "p2c",
    now: () => now,
    random: seeded(4),
  });
  try {
    pool.update(["a:1", "b:1"]);
    const [a, b] = both(pool);
    call(pool, b, 5);
    pool.acquire(a); // a stream, open for most of a second
    now = 900;
    pool.release(a, Status.OK, null);
    // a is still unmeasured and idle (load 0); had 900 ms been counted, b would win.
    for (let i = 0; i < 10; i++) assert.equal(pool.pick()!.address, "a:1");
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool p2c spreads evenly over equal instances", () => {
  let now = 0;
  const pool = new InstancePool(noChannels, {
    balancing: "p2c",
    now: () => now,
    random: seeded(5),
  });
  try {
    pool.update(["a:1", "b:1", "c:1"]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 3_000; i++) {
      now = i;
      const instance = pool.pick()!;
      counts.set(instance.address, (counts.get(instance.address) ?? 0) + 1);
      call(pool, instance, 5);
    }
    for (const [address, count] of counts) {
      assert.ok(count > 850 && count < 1_150, `${address}: ${count}`);
    }
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool p2c skips `avoid` and down instances, and falls back when none is left", () => {
  const now = 0;
  const pool = new InstancePool(noChannels, {
    balancing: "p2c",
    now: () => now,
    random: seeded(6),
  });
  try {
    pool.update(["a:1", "b:1", "c:1"]);
    const byAddress = new Map<string, Instance>();
    while (byAddress.size < 3) {
      const instance = pool.pick()!;
      byAddress.set(instance.address, instance);
    }
    const [a, b, c] = ["a:1", "b:1", "c:1"].map((address) => byAddress.get(address)!);
    pool.acquire(a);
    pool.release(a, Status.UNAVAILABLE, 1);
    for (let i = 0; i < 20; i++) assert.notEqual(pool.pick()!.address, "a:1");
    for (let i = 0; i < 20; i++) assert.equal(pool.pick(b)!.address, "c:1", "the only candidate");
    pool.acquire(c);
    pool.release(c, Status.UNAVAILABLE, 1);
    for (let i = 0; i < 20; i++) assert.equal(pool.pick()!.address, "b:1");
    const fallback = new Set(Array.from({ length: 20 }, () => pool.pick(b)!.address));
    assert.ok(!fallback.has("b:1"), "any other before `avoid`");
    pool.update(["b:1"]);
    assert.equal(pool.pick(b)!.address, "b:1", "`avoid` when it is all there is");
  } finally {
    pool.close();
  }
});
