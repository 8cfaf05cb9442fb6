import assert from "node:assert/strict";
import { resolveConfig } from "../config/resolve.ts";
import type { ResolvedRetryPolicy } from "../config/mod.ts";
import { makeProject } from "../config/_testing.ts";
import { Status } from "../core/errors.ts";
import {
  IDEMPOTENT_DEFAULT,
  pushbackMs,
  retryDelayMs,
  type RetryPolicy,
  retryPolicyFor,
} from "./retry_policy.ts";

const CONFIGURED: ResolvedRetryPolicy = {
  maxAttempts: 4,
  initialBackoff: 100,
  maxBackoff: 1_000,
  backoffMultiplier: 3,
  retryableStatusCodes: ["UNAVAILABLE", "RESOURCE_EXHAUSTED", "ABORTED"],
};

Deno.test("retryPolicyFor() gives idempotent methods the default and others none", () => {
  assert.equal(retryPolicyFor(null, true), IDEMPOTENT_DEFAULT);
  assert.equal(retryPolicyFor(null, false), null);
});

Deno.test("retryPolicyFor() applies a configured policy to every method, codes as numbers", () => {
  for (const idempotent of [true, false]) {
    const policy = retryPolicyFor(CONFIGURED, idempotent);
    assert.deepEqual(policy, {
      maxAttempts: 4,
      initialBackoffMs: 100,
      maxBackoffMs: 1_000,
      backoffMultiplier: 3,
      retryableCodes: new Set([Status.UNAVAILABLE, Status.RESOURCE_EXHAUSTED, Status.ABORTED]),
    });
    assert.ok(Object.isFrozen(policy));
  }
});

Deno.test("retryPolicyFor() returns null for a policy that cannot retry", () => {
  assert.equal(retryPolicyFor({ ...CONFIGURED, maxAttempts: 1 }, true), null);
  assert.equal(retryPolicyFor({ ...CONFIGURED, retryableStatusCodes: [] }, true), null);
});

Deno.test("retryPolicyFor() caps attempts at 5, as gRFC A6 does", () => {
  assert.equal(retryPolicyFor({ ...CONFIGURED, maxAttempts: 9 }, false)?.maxAttempts, 5);
});

Deno.test("IDEMPOTENT_DEFAULT is the config schema's retry defaults", async () => {
  await using project = await makeProject({ "proto/backend.proto": 'syntax = "proto3";\n' });
  const config = resolveConfig(
    "dependencies:\n  demo.Backend:\n    protos: [proto/backend.proto]\n    retry: {}\n",
    project.file,
  );
  const fromSchema = retryPolicyFor(config.dependencies["demo.Backend"].retry, false);
  assert.deepEqual(fromSchema, { ...IDEMPOTENT_DEFAULT });
});

Deno.test("retryDelayMs() draws from [0, initial × multiplier^(n−1)), capped at maxBackoff", () => {
  const policy: RetryPolicy = retryPolicyFor(CONFIGURED, false)!;
  // Bounds: 100, 300, 900, then the 1 000 cap.
  const bounds = [100, 300, 900, 1_000, 1_000];
  for (const [i, bound] of bounds.entries()) {
    assert.equal(retryDelayMs(policy, i + 1, () => 0), 0);
    assert.equal(retryDelayMs(policy, i + 1, () => 0.5), bound / 2, `retry ${i + 1}`);
    assert.ok(retryDelayMs(policy, i + 1, () => 1 - 2 ** -53) < bound);
  }
  assert.equal(retryDelayMs(policy, 5_000, () => 0.5), 500, "a huge exponent is capped too");
  assert.equal(retryDelayMs(policy, 0, () => 0.5), 50, "retry 0 counts as the first");
});

Deno.test("retryDelayMs() spreads waits evenly (full jitter) with Math.random", () => {
  const waits = Array.from({ length: 2_000 }, () => retryDelayMs(IDEMPOTENT_DEFAULT, 2));
  assert.ok(waits.every((ms) => ms >= 0 && ms < 50));
  const low = waits.filter((ms) => ms < 25).length;
  // Binomial(2000, 0.5): 1000 ± 22 (σ); ± 150 is about 7 σ.
  assert.ok(Math.abs(low - 1_000) < 150, `${low} of 2000 below the middle`);
});

Deno.test("pushbackMs() reads a non-negative integer as the wait", () => {
  assert.equal(pushbackMs("0"), 0);
  assert.equal(pushbackMs("250"), 250);
  assert.equal(pushbackMs(["1500"]), 1_500);
  assert.equal(pushbackMs([" 42 "]), 42);
});

Deno.test("pushbackMs() says stop for a value that is present but not a wait", () => {
  for (
    const value of [
      "-1",
      "-0",
      "1.5",
      "1e3",
      "abc",
      "",
      "+5",
      "0x10",
      "99999999999999999999",
      ["1", "2"],
      [new Uint8Array([0x31])],
      [7],
    ]
  ) {
    assert.equal(pushbackMs(value), "stop", JSON.stringify(value));
  }
});

Deno.test("pushbackMs() is null when the trailer is absent", () => {
  assert.equal(pushbackMs(undefined), null);
  assert.equal(pushbackMs(null), null);
  assert.equal(pushbackMs([]), null);
});
