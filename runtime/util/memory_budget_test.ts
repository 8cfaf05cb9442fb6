import assert from "node:assert/strict";
import { ALWAYS_GRANTED_BYTES, MemoryBudget } from "./memory_budget.ts";

Deno.test("MemoryBudget refuses what does not fit, never small amounts, and counts both", () => {
  const budget = new MemoryBudget(1_000_000);
  assert.ok(budget.take(900_000));
  assert.equal(budget.take(200_000), false);
  assert.equal(budget.used, 900_000);
  assert.equal(budget.refused, 1);
  // Small requests pass even when full: health checks must still be served.
  assert.ok(budget.take(ALWAYS_GRANTED_BYTES - 1));
  budget.charge(500_000);
  assert.ok(budget.used > budget.limit);
  assert.equal(budget.peak, budget.used);
  budget.give(500_000 + ALWAYS_GRANTED_BYTES - 1 + 900_000);
  assert.equal(budget.used, 0);
  assert.ok(budget.take(1_000_000));
});
