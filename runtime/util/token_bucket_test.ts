import assert from "node:assert/strict";
import { FakeClock } from "../rate_limit/_testing.ts";
import { TokenBucket } from "./token_bucket.ts";

Deno.test("TokenBucket starts full: burst calls pass, the next is refused", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(10, 5, clock.now);
  for (let i = 0; i < 5; i++) assert.equal(bucket.tryTake(), true, `call ${i}`);
  assert.equal(bucket.tryTake(), false);
});

Deno.test("TokenBucket admits burst + rate of 3×rate calls spread over one second", () => {
  for (const [rate, burst] of [[10, 5], [100, 20], [7, 1], [50, 50]]) {
    const clock = new FakeClock();
    const bucket = new TokenBucket(rate, burst, clock.now);
    const calls = 3 * rate;
    let passed = 0;
    for (let i = 0; i < calls; i++) {
      if (bucket.tryTake()) passed++;
      clock.advance(1000 / calls);
    }
    assert.ok(
      Math.abs(passed - (burst + rate)) <= 1,
      `rate ${rate}, burst ${burst}: ${passed} passed, expected ${burst + rate} ± 1`,
    );
  }
});

Deno.test("TokenBucket refills at rate and never beyond burst", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(10, 3, clock.now);
  while (bucket.tryTake());
  clock.advance(99);
  assert.equal(bucket.tryTake(), false);
  clock.advance(1);
  assert.equal(bucket.tryTake(), true, "one token after 1/rate seconds");
  assert.equal(bucket.tryTake(), false);

  clock.advance(60_000);
  assert.equal(bucket.tokens(), 3);
  for (let i = 0; i < 3; i++) assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), false);
});

Deno.test("TokenBucket.retryAfterMs() is 0 with a token and the wait for one without", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(4, 1, clock.now);
  assert.equal(bucket.retryAfterMs(), 0);
  bucket.tryTake();
  assert.equal(bucket.retryAfterMs(), 250);
  clock.advance(100);
  assert.equal(bucket.retryAfterMs(), 150);
  clock.advance(150);
  assert.equal(bucket.retryAfterMs(), 0);
});

Deno.test("TokenBucket.retryAfterMs() is at least 1 when empty", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(1e6, 1, clock.now);
  bucket.tryTake();
  assert.equal(bucket.retryAfterMs(), 1);
});

Deno.test("TokenBucket.canTake() peeks without taking", () => {
  const bucket = new TokenBucket(1, 1, new FakeClock().now);
  assert.equal(bucket.canTake(), true);
  assert.equal(bucket.canTake(), true);
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.canTake(), false);
});

Deno.test("TokenBucket handles fractional rates and a clock that steps back", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(0.5, 1, clock.now);
  bucket.tryTake();
  clock.advance(1999);
  assert.equal(bucket.tryTake(), false);
  clock.ms -= 5000;
  assert.equal(bucket.tryTake(), false, "going back adds nothing");
  clock.ms += 5000 + 1;
  assert.equal(bucket.tryTake(), true);
});

Deno.test("TokenBucket adds many small refills up to a whole token", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(10, 1, clock.now);
  bucket.tryTake();
  // Ten looks 10 ms apart add 10 × 0.1 tokens, which floats sum to 0.9999999999999999.
  for (let i = 0; i < 10; i++) {
    clock.advance(10);
    bucket.tokens();
  }
  assert.equal(bucket.tryTake(), true);
});

Deno.test("TokenBucket uses the monotonic clock by default", () => {
  const bucket = new TokenBucket(1, 2);
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), false);
});

Deno.test("TokenBucket rejects a rate <= 0 or a burst < 1", () => {
  assert.throws(() => new TokenBucket(0, 1), /rate must be > 0, got 0/);
  assert.throws(() => new TokenBucket(1, 0.5), /burst must be >= 1, got 0.5/);
});
