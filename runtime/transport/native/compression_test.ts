import assert from "node:assert/strict";
import { compress, decompress, InflateGate } from "./compression.ts";

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* burn */ }
}

Deno.test("InflateGate keeps inflation to about half of the loop's time, in order", async () => {
  const gate = new InflateGate();
  const order: number[] = [];
  const started = performance.now();
  // 20 inflations of 10 ms: 200 ms of work, so about 400 ms at half the loop.
  const runs = Array.from({ length: 20 }, (_, i) => gate.run(() => (busy(10), order.push(i), i)));
  assert.ok(gate.waiting > 0, "the burst is paced");
  const results = await Promise.all(runs);
  const elapsed = performance.now() - started;
  assert.deepEqual(results, order);
  assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => i));
  assert.ok(elapsed >= 250, `200 ms of inflation took ${elapsed.toFixed(0)} ms of wall time`);
});

Deno.test("InflateGate runs at once while the loop has time to spare, and passes errors on", () => {
  const gate = new InflateGate();
  assert.equal(gate.run(() => 7), 7);
  const bomb = compress("gzip", new Uint8Array(1 << 20));
  assert.throws(() => gate.run(() => decompress("gzip", bomb, 1024)), RangeError);
  // Thrown at once when run at once, rejected when run later: either way the caller sees it.
  assert.throws(() =>
    gate.run(() => {
      throw new Error("bad");
    }), /bad/);
});

Deno.test("InflateGate takes turns between connections: one flooding cannot hold another back", async () => {
  const gate = new InflateGate();
  const flood = {}, other = {};
  const order: string[] = [];
  // Runs at once and overdraws the bucket (time refills it while it runs): the rest wait.
  gate.run(() => busy(200));
  const runs = Array.from(
    { length: 10 },
    (_, i) => gate.run(() => (busy(5), order.push(`f${i}`)), flood),
  );
  const late = gate.run(() => order.push("other"), other);
  await Promise.all([...runs, late]);
  // The other connection's one inflation ran in the second turn, not after the flood's ten.
  assert.ok(order.indexOf("other") <= 1, order.join(" "));
  assert.deepEqual(
    order.filter((o) => o !== "other"),
    Array.from({ length: 10 }, (_, i) => `f${i}`),
  );
});
