import assert from "node:assert/strict";
import type { ResolvedRetryPolicy } from "../config/mod.ts";
import { Status } from "../core/errors.ts";
import { retryDelayMs, type RetryPolicy, retryPolicyFor } from "./retry_policy.ts";
import { RetryThrottle } from "./retry_throttle.ts";

/** A seeded PRNG (mulberry32), so every simulated run reproduces. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("RetryThrottle starts full and allows retries while more than half the tokens remain", () => {
  const throttle = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
  assert.equal(throttle.tokens, 10);
  // 9, 8, 7, 6 are above 5; 5 is not.
  assert.deepEqual(Array.from({ length: 5 }, () => throttle.onFailure()), [
    true,
    true,
    true,
    true,
    false,
  ]);
  assert.equal(throttle.tokens, 5);
});

Deno.test("RetryThrottle refills by tokenRatio per success, exactly, up to maxTokens", () => {
  const throttle = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
  for (let i = 0; i < 5; i++) throttle.onFailure();
  for (let i = 0; i < 10; i++) throttle.onSuccess();
  assert.equal(throttle.tokens, 6, "ten times 0.1 is exactly 1");
  assert.equal(throttle.onFailure(), false, "back to 5: not above half");
  for (let i = 0; i < 11; i++) throttle.onSuccess();
  assert.equal(throttle.onFailure(), true, "6.1 − 1 = 5.1 is above half");
  for (let i = 0; i < 1_000; i++) throttle.onSuccess();
  assert.equal(throttle.tokens, 10);
});

Deno.test("RetryThrottle never goes below 0 tokens", () => {
  const throttle = new RetryThrottle({ maxTokens: 3, tokenRatio: 0.5 });
  for (let i = 0; i < 10; i++) assert.equal(throttle.onFailure(), i === 0, `failure ${i}`);
  assert.equal(throttle.tokens, 0);
  throttle.onSuccess();
  assert.equal(throttle.tokens, 0.5, "one success is felt at once");
});

Deno.test("RetryThrottle rounds ratios down to thousandths, never up", () => {
  const exact = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.57 });
  for (let i = 0; i < 5; i++) exact.onFailure();
  exact.onSuccess();
  assert.equal(exact.tokens, 5.57, "0.57 is 569.99… thousandths in binary, still 570");
  const finer = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1239 });
  for (let i = 0; i < 5; i++) finer.onFailure();
  finer.onSuccess();
  assert.equal(finer.tokens, 5.123);
});

Deno.test("RetryThrottle counts the retries it refused", () => {
  const throttle = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.1 });
  assert.equal(throttle.throttled, 0);
  throttle.noteThrottled();
  throttle.noteThrottled();
  assert.equal(throttle.throttled, 2);
});

Deno.test("RetryThrottle rejects options it cannot work with", () => {
  assert.throws(() => new RetryThrottle({ maxTokens: 0, tokenRatio: 0.1 }), RangeError);
  assert.throws(() => new RetryThrottle({ maxTokens: NaN, tokenRatio: 0.1 }), RangeError);
  assert.throws(
    () => new RetryThrottle({ maxTokens: 10, tokenRatio: -0.1 }),
    /tokenRatio must be 0 or more, got -0.1/,
  );
});

// ---------------------------------------------------------------------------
// The bound of the module doc, A < (N + maxTokens/2) / (1 − tokenRatio), on
// simulated traffic: up to 16 calls in flight, interleaved by their backoff
// waits, against a dependency failing a share of attempts.

interface Scenario {
  calls: number;
  failing: number;
  maxTokens: number;
  tokenRatio: number;
  policy: RetryPolicy;
}

interface Totals {
  attempts: number;
  throttled: number;
}

/** One call in flight: when its next attempt starts and how many it made. */
interface InFlight {
  at: number;
  attempts: number;
}

function simulateCalls(scenario: Scenario, seed: number, throttled: boolean): Totals {
  const random = seeded(seed);
  const throttle = new RetryThrottle(scenario);
  const { policy } = scenario;
  const inFlight: InFlight[] = [];
  let started = 0;
  let attempts = 0;
  let now = 0;
  while (started < scenario.calls || inFlight.length > 0) {
    // A new call arrives every 5 ms, up to 16 at once.
    if (started < scenario.calls && inFlight.length < 16) {
      inFlight.push({ at: now, attempts: 0 });
      started++;
    }
    // Run the attempt due first: calls interleave as their waits dictate.
    let next = 0;
    for (let i = 1; i < inFlight.length; i++) if (inFlight[i].at < inFlight[next].at) next = i;
    const call = inFlight[next];
    now = Math.max(now, call.at) + 5;
    call.attempts++;
    attempts++;
    const done = () => inFlight.splice(next, 1);
    if (random() >= scenario.failing) {
      throttle.onSuccess();
      done();
      continue;
    }
    // One failure in ten is a caller's mistake: not retryable, no token taken.
    const code = random() < 0.1 ? Status.INVALID_ARGUMENT : Status.UNAVAILABLE;
    if (!policy.retryableCodes.has(code)) {
      done();
      continue;
    }
    const allowed = throttle.onFailure();
    if (call.attempts >= policy.maxAttempts) {
      done();
    } else if (throttled && !allowed) {
      throttle.noteThrottled();
      done();
    } else {
      call.at = now + retryDelayMs(policy, call.attempts, random);
    }
    assert.ok(throttle.tokens >= 0 && throttle.tokens <= scenario.maxTokens);
  }
  return { attempts, throttled: throttle.throttled };
}

function scenarioFor(seed: number): Scenario {
  const random = seeded(seed ^ 0x5eed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const configured: ResolvedRetryPolicy = {
    maxAttempts: 3 + Math.floor(random() * 3),
    initialBackoff: 25,
    maxBackoff: 1_000,
    backoffMultiplier: 2,
    retryableStatusCodes: ["UNAVAILABLE"],
  };
  return {
    calls: 1_000,
    failing: 0.2 + 0.8 * random(),
    maxTokens: pick([2, 10, 100]),
    tokenRatio: pick([0.01, 0.1, 0.2]),
    policy: retryPolicyFor(configured, false)!,
  };
}

Deno.test("RetryThrottle bounds attempts by (N + maxTokens/2) / (1 − tokenRatio) on random traffic", () => {
  let exceededWithout = 0;
  let heavyRuns = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const scenario = scenarioFor(seed);
    const { calls, maxTokens, tokenRatio } = scenario;
    const bound = (calls + maxTokens / 2) / (1 - tokenRatio);
    const tighter = calls * (1 + tokenRatio) + maxTokens / 2;
    const where = `seed ${seed}: ${JSON.stringify({ ...scenario, policy: undefined })}`;

    const run = simulateCalls(scenario, seed, true);
    assert.ok(run.attempts <= bound, `${where}: ${run.attempts} attempts > ${bound}`);
    assert.ok(run.attempts < tighter, `${where}: ${run.attempts} attempts ≥ ${tighter}`);

    if (scenario.failing < 0.5) continue;
    heavyRuns++;
    assert.ok(run.throttled > 0, `${where}: no retry was throttled`);
    // The same traffic without throttling breaks the bound: the check has teeth.
    const unthrottled = simulateCalls(scenario, seed, false);
    assert.ok(unthrottled.attempts > bound, `${where}: ${unthrottled.attempts} ≤ ${bound}`);
    exceededWithout++;
  }
  assert.ok(heavyRuns > 150, `${heavyRuns} runs at 50 % failing or more`);
  assert.equal(exceededWithout, heavyRuns);
});
