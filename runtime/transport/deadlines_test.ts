import assert from "node:assert/strict";
import { CHURN_PEAK_LIMIT_MIB, churnPeakMiB } from "./native/_churn_probe_run.ts";
import { Deadlines, type Expiring } from "./deadlines.ts";

interface Item extends Expiring {
  readonly name: string;
}

function item(deadline: number, expired: Item[], name = ""): Item {
  const x: Item = {
    name,
    deadline,
    deadlineSlot: -1,
    deadlineExpired: () => expired.push(x),
  };
  return x;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Deadlines: expire in deadline order, skip what was removed, then hold no timer", async () => {
  const deadlines = new Deadlines();
  const expired: Item[] = [];
  const now = Date.now();
  const [a, b, c, d] = [60, 20, 40, 30].map((ms, i) => item(now + ms, expired, "abcd"[i]));
  for (const x of [a, b, c, d]) deadlines.add(x);
  deadlines.remove(d);
  deadlines.remove(d); // not queued any more: nothing happens
  assert.equal(deadlines.size, 3);
  await sleep(120);
  assert.deepEqual(expired.map((x) => x.name), ["b", "c", "a"]);
  assert.equal(deadlines.size, 0);
  for (const x of [a, b, c, d]) assert.equal(x.deadlineSlot, -1);
  // A timer left set would fail this test (Deno's leak check).
});

Deno.test("Deadlines: an earlier deadline re-arms the timer; removing the last clears it", async () => {
  const deadlines = new Deadlines();
  const expired: Item[] = [];
  const late = item(Date.now() + 60_000, expired, "late");
  deadlines.add(late);
  deadlines.add(item(Date.now() + 15, expired, "early"));
  await sleep(60);
  assert.deepEqual(expired.map((x) => x.name), ["early"]);
  assert.equal(deadlines.size, 1);
  deadlines.remove(late);
  assert.equal(deadlines.size, 0);
  // The 60 s timer must be gone now, or the leak check fails the test.
});

Deno.test("Deadlines: random adds and removes; what is left expires in deadline order", async () => {
  const deadlines = new Deadlines();
  const expired: Item[] = [];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const queued = new Set<Item>();
  const base = Date.now() + 20;
  for (let step = 0; step < 5_000; step++) {
    if (queued.size === 0 || random() < 0.55) {
      const x = item(base + Math.floor(random() * 60), expired);
      deadlines.add(x);
      queued.add(x);
    } else {
      const all = [...queued];
      const x = all[Math.floor(random() * all.length)];
      deadlines.remove(x);
      queued.delete(x);
    }
  }
  await sleep(200);
  assert.equal(deadlines.size, 0);
  assert.equal(expired.length, queued.size);
  assert.deepEqual(new Set(expired), queued);
  for (let i = 1; i < expired.length; i++) {
    assert.ok(expired[i - 1].deadline <= expired[i].deadline, `out of order at ${i}`);
  }
});

Deno.test("Deadlines: churn does not keep finished calls alive, as a timer per call does", async () => {
  const ours = await churnPeakMiB("deadlines");
  const timers = await churnPeakMiB("timers");
  assert.ok(
    ours < CHURN_PEAK_LIMIT_MIB,
    `peak heap ${ours} MiB (a setTimeout per call: ${timers})`,
  );
});
