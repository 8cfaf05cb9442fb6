import { assertEquals, assertThrows } from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.ts";

Deno.test("parseDuration() reads single and combined units", () => {
  assertEquals(parseDuration("500ms"), 500);
  assertEquals(parseDuration("10s"), 10_000);
  assertEquals(parseDuration("2m"), 120_000);
  assertEquals(parseDuration("1h"), 3_600_000);
  assertEquals(parseDuration("1h30m"), 5_400_000);
  assertEquals(parseDuration("1.5s"), 1500);
  assertEquals(parseDuration("0"), 0);
});

Deno.test("parseDuration() rejects a plain number and suggests a unit", () => {
  assertThrows(() => parseDuration("10"), {
    message: `cannot parse duration "10": it has no unit (write "10s" or "10ms")`,
  });
});

Deno.test("parseDuration() rejects unknown units and junk", () => {
  assertThrows(() => parseDuration("10x"), {
    message: `cannot parse duration "10x": unknown unit "x" (use ms, s, m or h)`,
  });
  assertThrows(() => parseDuration("-5s"), SyntaxError);
  assertThrows(() => parseDuration("1h 5m"), SyntaxError);
  assertThrows(() => parseDuration(""), SyntaxError);
  assertThrows(() => parseDuration("5s3"), { message: /"3" has no unit/ });
});

Deno.test("formatDuration() round-trips through parseDuration()", () => {
  for (const ms of [0, 1, 999, 1000, 90_000, 5_400_000, 7_200_000, 3_723_004]) {
    assertEquals(parseDuration(formatDuration(ms)), ms);
  }
  assertEquals(formatDuration(5_400_000), "1h30m");
});
