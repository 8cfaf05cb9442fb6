import assert from "node:assert/strict";
import { backoffDelay, sleep, TimeoutError, withDeadline } from "./backoff.ts";

Deno.test("backoffDelay() stays within the doubling ceiling, capped", () => {
  for (let i = 0; i < 200; i++) {
    assert.ok(backoffDelay(1) <= 250);
    assert.ok(backoffDelay(3) <= 1_000);
    assert.ok(backoffDelay(50) <= 10_000);
    assert.ok(backoffDelay(4, { initialMs: 100, maxMs: 300 }) <= 300);
    assert.ok(backoffDelay(2) >= 0);
  }
  // Full jitter: the spread reaches well below the ceiling.
  const samples = Array.from({ length: 200 }, () => backoffDelay(10));
  assert.ok(Math.min(...samples) < 5_000 && Math.max(...samples) > 5_000);
});

Deno.test("sleep() ends early when its signal aborts and never rejects", async () => {
  const controller = new AbortController();
  const started = Date.now();
  const slept = sleep(5_000, controller.signal);
  controller.abort();
  await slept;
  assert.ok(Date.now() - started < 1_000);
  await sleep(1_000, controller.signal); // already aborted: at once
});

Deno.test("withDeadline() rejects with TimeoutError and swallows the late failure", async () => {
  let fail!: (e: Error) => void;
  const never = new Promise<void>((_, reject) => fail = reject);
  await assert.rejects(withDeadline(never, 20, "etcd lease revoke"), (e: unknown) => {
    return e instanceof TimeoutError && e.message === "etcd lease revoke timed out after 20 ms";
  });
  fail(new Error("late")); // must not become an unhandled rejection
  assert.equal(await withDeadline(Promise.resolve(7), 1_000, "x"), 7);
  await assert.rejects(withDeadline(Promise.resolve(1), 0, "y"), TimeoutError);
});
