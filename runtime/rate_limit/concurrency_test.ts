import assert from "node:assert/strict";
import { ConcurrencyLimit } from "./concurrency.ts";

Deno.test("ConcurrencyLimit admits up to max and frees a slot on release", () => {
  const limit = new ConcurrencyLimit(2);
  assert.equal(limit.tryAcquire(), true);
  assert.equal(limit.tryAcquire(), true);
  assert.equal(limit.hasRoom(), false);
  assert.equal(limit.tryAcquire(), false);
  assert.equal(limit.inFlight, 2);
  limit.release();
  assert.equal(limit.tryAcquire(), true);
});

Deno.test("ConcurrencyLimit never counts below zero", () => {
  const limit = new ConcurrencyLimit(1);
  limit.release();
  assert.equal(limit.inFlight, 0);
  assert.equal(limit.tryAcquire(), true);
  assert.equal(limit.tryAcquire(), false);
});

Deno.test("ConcurrencyLimit rejects max < 1", () => {
  assert.throws(() => new ConcurrencyLimit(0), /max must be >= 1, got 0/);
});
