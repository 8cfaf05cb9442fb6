// Unit tests of the flood limits; the connection-level behaviour is in connection_test.ts.
import assert from "node:assert/strict";
import { testLimits } from "./_testing.ts";
import { FloodLimits, MAX_CONTINUATIONS, MAX_SETTINGS_ENTRIES } from "./flood_limits.ts";
import { ConnectionError, ErrorCode } from "./frame.ts";

const calm = (message: string) => (error: unknown) =>
  error instanceof ConnectionError && error.code === ErrorCode.ENHANCE_YOUR_CALM &&
  error.message === message;

Deno.test("flood limits: a burst of control frames, then ENHANCE_YOUR_CALM", () => {
  const flood = new FloodLimits(testLimits({ controlFrameRate: 1, controlFrameBurst: 3 }));
  for (let i = 0; i < 3; i++) flood.controlFrame();
  assert.throws(() => flood.controlFrame(), calm("too many control frames"));
});

Deno.test("flood limits: a burst of stream resets, then ENHANCE_YOUR_CALM", () => {
  const flood = new FloodLimits(testLimits({ resetRate: 1, resetBurst: 2 }));
  flood.streamReset();
  flood.streamReset();
  assert.throws(() => flood.streamReset(), calm("too many stream resets"));
});

Deno.test("flood limits: header blocks are capped in bytes and in fragments", () => {
  const flood = new FloodLimits(testLimits({ maxHeaderListBytes: 32 * 1024 }));
  flood.headerBlock(128 * 1024, MAX_CONTINUATIONS - 1);
  assert.throws(() => flood.headerBlock(128 * 1024 + 1, 1), calm("header block too large"));
  assert.throws(() => flood.headerBlock(10, MAX_CONTINUATIONS), calm("header block too large"));
  // Small lists still allow 64 KiB of compressed block.
  new FloodLimits(testLimits({ maxHeaderListBytes: 100 })).headerBlock(64 * 1024, 1);
});

Deno.test("flood limits: a SETTINGS frame of more than 32 entries is ENHANCE_YOUR_CALM", () => {
  const flood = new FloodLimits(testLimits({ controlFrameRate: 100, controlFrameBurst: 100 }));
  flood.settings(MAX_SETTINGS_ENTRIES);
  assert.throws(() => flood.settings(2730), calm("too many settings (2730)"));
});
