import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.ts";

Deno.test("parseDuration() reads single and combined units", () => {
  assert.deepEqual(parseDuration("500ms"), 500);
  assert.deepEqual(parseDuration("10s"), 10_000);
  assert.deepEqual(parseDuration("2m"), 120_000);
  assert.deepEqual(parseDuration("1h"), 3_600_000);
  assert.deepEqual(parseDuration("1h30m"), 5_400_000);
  assert.deepEqual(parseDuration("1.5s"), 1500);
  assert.deepEqual(parseDuration("0"), 0);
});

Deno.test("parseDuration() rejects a plain number and suggests a unit", () => {
  assert.throws(() => parseDuration("10"), {
    message: `cannot parse duration "10": it has no unit (write "10s" or "10ms")`,
  });
});

Deno.test("parseDuration() rejects unknown units and junk", () => {
  assert.throws(() => parseDuration("10x"), {
    message: `cannot parse duration "10x": unknown unit "x" (use ms, s, m or h)`,
  });
  assert.throws(() => parseDuration("-5s"), SyntaxError);
  assert.throws(() => parseDuration("1h 5m"), SyntaxError);
  assert.throws(() => parseDuration(""), SyntaxError);
  assert.throws(() => parseDuration("5s3"), { message: /"3" has no unit/ });
});

Deno.test("formatDuration() round-trips through parseDuration()", () => {
  for (const ms of [0, 1, 999, 1000, 90_000, 5_400_000, 7_200_000, 3_723_004]) {
    assert.deepEqual(parseDuration(formatDuration(ms)), ms);
  }
  assert.deepEqual(formatDuration(5_400_000), "1h30m");
});
