import assert from "node:assert/strict";
import {
  createSharedLimits,
  resetSlot,
  SharedConcurrencyLimit,
  SharedTokenBucket,
} from "./shared_limits.ts";
import type { ResolvedRateLimit } from "../config/mod.ts";

const CONFIG: ResolvedRateLimit = {
  global: { rate: 0.001, burst: 3 },
  perMethod: { "/a.B/C": { rate: 0.001, burst: 1 } },
  perKey: null,
  maxConcurrent: { global: 2, perMethod: {} },
};

Deno.test("a shared bucket gives its burst once, to whichever view takes it", () => {
  const buffers = createSharedLimits(CONFIG, 2);
  assert.deepEqual(Object.keys(buffers).sort(), [
    "bucket global",
    "bucket perMethod /a.B/C",
    "cap global",
  ]);
  const one = new SharedTokenBucket(buffers["bucket global"], 0.001, 3);
  const other = new SharedTokenBucket(buffers["bucket global"], 0.001, 3);
  assert.ok(one.tryTake());
  assert.ok(other.tryTake());
  assert.ok(one.tryTake());
  assert.equal(other.canTake(), false);
  assert.equal(other.tryTake(), false);
  assert.ok(other.retryAfterMs() > 0);
});

Deno.test("a shared bucket refills at its rate and says how long to wait", async () => {
  const buffers = createSharedLimits({ ...CONFIG, global: { rate: 100, burst: 2 } }, 2);
  const bucket = new SharedTokenBucket(buffers["bucket global"], 100, 2);
  assert.equal(bucket.tokens(), 2);
  assert.ok(bucket.tryTake());
  assert.ok(bucket.tryTake());
  assert.equal(bucket.tryTake(), false);
  const wait = bucket.retryAfterMs();
  assert.ok(wait >= 1 && wait <= 10, `retry after ${wait} ms`);
  await new Promise((resolve) => setTimeout(resolve, 25));
  // 25 ms at 100/s is 2.5 tokens, capped at the burst.
  assert.equal(bucket.tokens(), 2);
  assert.ok(bucket.tryTake());
  assert.ok(bucket.tryTake());
  assert.equal(bucket.canTake(), false);
});

Deno.test("a shared cap counts every slot, and a dead worker's slot can be zeroed", () => {
  const buffers = createSharedLimits(CONFIG, 2);
  const first = new SharedConcurrencyLimit(buffers["cap global"], 0, 2);
  const second = new SharedConcurrencyLimit(buffers["cap global"], 1, 2);
  assert.ok(first.tryAcquire());
  assert.ok(first.tryAcquire());
  assert.equal(second.tryAcquire(), false);
  resetSlot(buffers, 0);
  assert.equal(second.inFlight, 0);
  assert.ok(second.tryAcquire());
  second.release();
  second.release(); // a stray release never goes below zero
  assert.equal(first.inFlight, 0);
});

Deno.test("two threads taking from one bucket at once get the burst between them, no more", async () => {
  const burst = 20_000;
  const buffer =
    createSharedLimits({ ...CONFIG, global: { rate: 0.001, burst } }, 2)["bucket global"];
  const source = `
    import { SharedTokenBucket } from ${
    JSON.stringify(new URL("./shared_limits.ts", import.meta.url).href)
  };
    self.onmessage = ({ data }) => {
      const bucket = new SharedTokenBucket(data, 0.001, ${burst});
      let taken = 0;
      while (bucket.tryTake()) taken++;
      self.postMessage(taken);
    };`;
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  const workers = [0, 1].map(() => new Worker(url, { type: "module" }));
  try {
    const taken = await Promise.all(workers.map((worker) =>
      new Promise<number>((resolve) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.postMessage(buffer);
      })
    ));
    assert.equal(taken[0] + taken[1], burst);
  } finally {
    for (const worker of workers) worker.terminate();
    URL.revokeObjectURL(url);
  }
});
