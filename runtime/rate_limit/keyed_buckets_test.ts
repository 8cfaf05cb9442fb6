import assert from "node:assert/strict";
import { FakeClock } from "./_testing.ts";
import { KeyedBuckets } from "./keyed_buckets.ts";

Deno.test("KeyedBuckets gives each key its own bucket", () => {
  const buckets = new KeyedBuckets({ rate: 1, burst: 1, maxKeys: 10, clock: new FakeClock().now });
  assert.equal(buckets.get("a").tryTake(), true);
  assert.equal(buckets.get("a").tryTake(), false);
  assert.equal(buckets.get("b").tryTake(), true);
  assert.equal(buckets.get("a"), buckets.get("a"));
});

Deno.test("KeyedBuckets evicts the least recently used key beyond maxKeys", () => {
  const buckets = new KeyedBuckets({ rate: 1, burst: 1, maxKeys: 2, clock: new FakeClock().now });
  buckets.get("a").tryTake();
  buckets.get("b");
  buckets.get("c");
  assert.equal(buckets.size, 2);
  assert.equal(buckets.has("a"), false, "oldest evicted");
  assert.equal(buckets.has("b"), true);
  assert.equal(buckets.get("a").tryTake(), true, "an evicted key comes back full");
  assert.equal(buckets.has("b"), false, "a's return evicted b");
});

Deno.test("KeyedBuckets counts a get() as a use", () => {
  const buckets = new KeyedBuckets({ rate: 1, burst: 1, maxKeys: 2, clock: new FakeClock().now });
  buckets.get("a");
  buckets.get("b");
  buckets.get("a");
  buckets.get("c");
  assert.deepEqual([buckets.has("a"), buckets.has("b"), buckets.has("c")], [true, false, true]);
});

Deno.test("KeyedBuckets rejects maxKeys < 1", () => {
  assert.throws(() => new KeyedBuckets({ rate: 1, burst: 1, maxKeys: 0 }), /maxKeys must be >= 1/);
});

Deno.test("KeyedBuckets keeps least-recently-used order across many touches and evictions", () => {
  // Against a plain array model of LRU, with a seeded sequence of keys.
  const maxKeys = 5;
  const buckets = new KeyedBuckets({ rate: 1, burst: 1, maxKeys, clock: new FakeClock().now });
  let model: string[] = []; // most recent last
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const key = `k${seed % 9}`;
    const known = buckets.has(key);
    assert.equal(known, model.includes(key), `step ${i}: has(${key})`);
    const bucket = buckets.get(key);
    assert.equal(buckets.get(key), bucket, "the same bucket until evicted");
    model = model.filter((k) => k !== key);
    model.push(key);
    if (model.length > maxKeys) model.shift();
    assert.equal(buckets.size, model.length);
  }
  for (const key of model) assert.equal(buckets.has(key), true);
});
