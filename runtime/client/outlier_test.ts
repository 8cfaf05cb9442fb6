import assert from "node:assert/strict";
import { Status } from "../core/errors.ts";
import { type Balancing, type Instance, InstancePool, type OutlierOptions } from "./balancer.ts";

/** No test here touches a channel: picking never makes one. */
const noChannels = (address: string): never => {
  throw new Error(`no channel expected for ${address}`);
};

/** A small seeded generator (mulberry32). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The config defaults, but a 10 s interval and 30 s base ejection. */
const OPTIONS: OutlierOptions = {
  interval: 10_000,
  baseEjectionTime: 30_000,
  maxEjectionTime: 300_000,
  maxEjectionPercent: 50,
  failurePercentage: 50,
  minimumHosts: 3,
  requestVolume: 20,
};

/** A pool on a fake clock that records what it tells `onEjection`. */
function setup(
  addresses: string[],
  options: Partial<OutlierOptions> = {},
  balancing: Balancing = "round_robin",
) {
  const clock = { now: 0 };
  const told: [string, number | null][] = [];
  const pool = new InstancePool(noChannels, {
    balancing,
    outlier: { ...OPTIONS, ...options },
    now: () => clock.now,
    random: seeded(9),
    onEjection: (address, ms) => told.push([address, ms]),
  });
  pool.update(addresses);
  // Nothing is ejected yet, so a few picks hand out every instance; keep them
  // to call any one directly.
  const instances = new Map<string, Instance>();
  for (let i = 0; i < 100 && instances.size < addresses.length; i++) {
    const instance = pool.pick()!;
    instances.set(instance.address, instance);
  }
  assert.equal(instances.size, addresses.length);
  const at = (address: string) => instances.get(address)!;
  /** `count` calls on `address` ending with `code`. */
  const calls = (address: string, count: number, code: Status = Status.OK) => {
    for (let i = 0; i < count; i++) {
      pool.acquire(at(address));
      pool.release(at(address), code, 1);
    }
  };
  /** Addresses of `count` picks. */
  const picks = (count: number) =>
    new Set(Array.from({ length: count }, () => pool.pick()!.address));
  return { pool, clock, told, calls, picks, at };
}

Deno.test("InstancePool ejects an instance that fails half its calls, and it returns after the ejection time", () => {
  const { pool, clock, told, calls, picks } = setup(["a:1", "b:1", "c:1"]);
  try {
    calls("a:1", 20);
    calls("b:1", 20, Status.INTERNAL);
    calls("c:1", 20);
    clock.now = 9_999;
    assert.deepEqual(
      picks(6),
      new Set(["a:1", "b:1", "c:1"]),
      "judged only once the interval is over",
    );
    clock.now = 10_000;
    assert.deepEqual(picks(6), new Set(["a:1", "c:1"]));
    assert.deepEqual(told, [["b:1", 30_000]]);
    assert.deepEqual([pool.ejectedCount, pool.ejections], [1, 1]);
    clock.now = 39_999;
    assert.deepEqual(picks(6), new Set(["a:1", "c:1"]));
    clock.now = 40_000;
    assert.equal(pool.ejectedCount, 0, "back once its time is up");
    assert.deepEqual(picks(6), new Set(["a:1", "b:1", "c:1"]));
    assert.deepEqual(told, [["b:1", 30_000], ["b:1", null]]);
    assert.equal(pool.ejections, 1, "a counter: returns do not lower it");
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool ejects again for longer, up to max(baseEjectionTime, maxEjectionTime)", () => {
  const { pool, clock, told, calls } = setup(["a:1", "b:1", "c:1"], { maxEjectionTime: 70_000 });
  try {
    const failingInterval = (end: number) => {
      calls("a:1", 20);
      calls("b:1", 20, Status.DEADLINE_EXCEEDED);
      calls("c:1", 20);
      clock.now = end;
      pool.pick();
    };
    failingInterval(10_000); // ejected until 40 s
    clock.now = 40_000;
    pool.pick(); // returns; the interval it was ejected in does not lower the count
    failingInterval(50_000); // the second ejection: 60 s, until 110 s
    clock.now = 110_000;
    pool.pick();
    failingInterval(120_000); // the third: 90 s, capped at 70 s
    assert.deepEqual(told.filter(([, ms]) => ms !== null), [
      ["b:1", 30_000],
      ["b:1", 60_000],
      ["b:1", 70_000],
    ]);
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool forgives one ejection per interval without one", () => {
  const { pool, clock, told, calls } = setup(["a:1", "b:1", "c:1"]);
  try {
    const interval = (end: number, bCode: Status) => {
      calls("a:1", 20);
      calls("b:1", 20, bCode);
      calls("c:1", 20);
      clock.now = end;
      pool.pick();
    };
    interval(10_000, Status.INTERNAL); // ejected until 40 s
    clock.now = 40_000;
    pool.pick();
    interval(50_000, Status.OK); // a whole interval back and well: forgiven
    interval(60_000, Status.INTERNAL);
    assert.deepEqual(told.filter(([, ms]) => ms !== null), [["b:1", 30_000], ["b:1", 30_000]]);
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool never ejects more than maxEjectionPercent, worst failure share first", () => {
  const { pool, clock, told, calls, picks } = setup(["a:1", "b:1", "c:1"]);
  try {
    for (const end of [10_000, 20_000]) {
      calls("a:1", 20);
      calls("b:1", 12, Status.UNKNOWN);
      calls("b:1", 8);
      calls("c:1", 20, Status.RESOURCE_EXHAUSTED);
      clock.now = end;
      pool.pick();
    }
    // 50% of 3 instances is 1.5: one at most.
    assert.deepEqual(told, [["c:1", 30_000]]);
    assert.equal(pool.ejectedCount, 1);
    assert.deepEqual(picks(6), new Set(["a:1", "b:1"]));
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool never ejects the last instance left, whatever maxEjectionPercent says", () => {
  const { pool, clock, told, calls, picks } = setup(["a:1", "b:1"], {
    maxEjectionPercent: 100,
    minimumHosts: 1,
  });
  try {
    calls("a:1", 20, Status.INTERNAL);
    calls("b:1", 30, Status.INTERNAL);
    clock.now = 10_000;
    pool.pick();
    assert.deepEqual(told, [["a:1", 30_000]]);
    assert.deepEqual(picks(4), new Set(["b:1"]));
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool judges nobody while fewer than minimumHosts instances reach requestVolume", () => {
  const { pool, clock, told, calls } = setup(["a:1", "b:1", "c:1"]);
  try {
    calls("a:1", 19); // one call short
    calls("b:1", 20, Status.INTERNAL);
    calls("c:1", 20);
    clock.now = 10_000;
    pool.pick();
    assert.deepEqual(told, []);
    calls("a:1", 20);
    calls("b:1", 20, Status.INTERNAL);
    calls("c:1", 20);
    clock.now = 20_000;
    pool.pick();
    assert.deepEqual(told, [["b:1", 30_000]]);
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool judges only instances with requestVolume calls, counted per interval", () => {
  const { pool, clock, told, calls } = setup(["a:1", "b:1", "c:1", "d:1"], { minimumHosts: 2 });
  try {
    for (const end of [10_000, 20_000]) {
      calls("a:1", 20);
      calls("b:1", 15, Status.INTERNAL); // 30 in all, but never 20 in one interval
      calls("c:1", 20);
      clock.now = end;
      pool.pick();
    }
    assert.deepEqual(told, []);
    calls("b:1", 20, Status.INTERNAL);
    calls("c:1", 20);
    clock.now = 30_000;
    pool.pick();
    assert.deepEqual(told, [["b:1", 30_000]]);
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool counts only the dependency's failures, from failurePercentage on", () => {
  const { pool, clock, told, calls } = setup(["a:1", "b:1", "c:1"]);
  try {
    calls("a:1", 20, Status.INVALID_ARGUMENT); // the caller's mistakes
    calls("b:1", 20, Status.NOT_FOUND);
    calls("c:1", 11);
    calls("c:1", 9, Status.UNAVAILABLE); // 45%
    clock.now = 10_000;
    pool.pick();
    assert.deepEqual(told, []);
    calls("a:1", 20);
    calls("b:1", 20);
    calls("c:1", 10);
    calls("c:1", 10, Status.DATA_LOSS); // 50%
    clock.now = 20_000;
    pool.pick();
    assert.deepEqual(told, [["c:1", 30_000]]);
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool drops an instance's ejection when it leaves", () => {
  const { pool, clock, told, calls, picks } = setup(["a:1", "b:1", "c:1"]);
  try {
    calls("a:1", 20);
    calls("b:1", 20, Status.INTERNAL);
    calls("c:1", 20);
    clock.now = 10_000;
    pool.pick();
    assert.equal(pool.ejectedCount, 1);
    pool.update(["a:1", "c:1"]);
    assert.equal(pool.ejectedCount, 0);
    pool.update(["a:1", "b:1", "c:1"]);
    assert.deepEqual(picks(6), new Set(["a:1", "b:1", "c:1"]), "back as a new instance");
    assert.deepEqual(told, [["b:1", 30_000]], "no return to tell of");
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool p2c skips an ejected instance; an ejected one is a last resort", () => {
  const { pool, clock, calls, picks, at } = setup(
    ["a:1", "b:1", "c:1"],
    {},
    "p2c",
  );
  try {
    calls("a:1", 20);
    calls("b:1", 20, Status.INTERNAL);
    calls("c:1", 20);
    clock.now = 10_000;
    assert.ok(!picks(50).has("b:1"));
    pool.acquire(at("a:1"));
    pool.release(at("a:1"), Status.UNAVAILABLE, 1);
    assert.deepEqual(picks(10), new Set(["c:1"]));
    // c is avoided and a is down: b, though ejected, is still better than nothing.
    assert.ok(["a:1", "b:1"].includes(pool.pick(at("c:1"))!.address));
  } finally {
    pool.close();
  }
});
