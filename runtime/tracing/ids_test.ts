import assert from "node:assert/strict";
import {
  cleanTraceState,
  formatTraceParent,
  newSpanId,
  newTraceId,
  parseTraceParent,
  traceIdLow32,
} from "./ids.ts";
import { createSampler } from "./sampler.ts";

Deno.test("ids: new ids are lowercase hex of the right length, unique, never zero", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const span = newSpanId();
    const trace = newTraceId(i);
    assert.match(span, /^[0-9a-f]{16}$/);
    assert.match(trace, /^[0-9a-f]{32}$/);
    assert.equal(traceIdLow32(trace), i);
    seen.add(span);
  }
  assert.equal(seen.size, 10_000);
});

Deno.test("traceparent: version 00 parses; invalid values start a new trace", () => {
  assert.deepEqual(
    parseTraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1 },
  );
  for (
    const bad of [
      undefined,
      "",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", // no flags
      "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", // upper case
      "00-00000000000000000000000000000000-b7ad6b7169203331-01", // zero trace id
      "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // zero span id
      "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // version ff is invalid
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", // 00 has no more fields
    ]
  ) assert.equal(parseTraceParent(bad), null, String(bad));
  // A later version: read its first four fields.
  assert.equal(
    parseTraceParent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03-more")?.traceFlags,
    3,
  );
  assert.equal(
    formatTraceParent("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", 3),
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  );
  assert.equal(cleanTraceState(" congo=t61rcWkgMzE "), "congo=t61rcWkgMzE");
  assert.equal(cleanTraceState("x".repeat(20_000)), "");
});

Deno.test("samplers: parent-based ones follow the caller; ratio decides by the trace id", () => {
  const ratio = createSampler("parentbased_traceidratio", 0.25);
  assert.equal(ratio.sample(true, 0xffff_ffff), true);
  assert.equal(ratio.sample(false, 0), false);
  let sampled = 0;
  for (let low = 0; low < 0x1_0000_0000; low += 0x10_0000) if (ratio.sample(null, low)) sampled++;
  assert.equal(sampled, 1024); // a quarter of 4096 evenly spread ids
  assert.equal(createSampler("traceidratio", 0).sample(true, 0), false);
  assert.equal(createSampler("traceidratio", 1).sample(false, 0xffff_ffff), true);
  assert.equal(createSampler("always_on", 0).sample(false, 0), true);
  assert.equal(createSampler("always_off", 1).sample(true, 0), false);
  assert.equal(createSampler("parentbased_always_on", 0).sample(null, 0), true);
  assert.equal(createSampler("parentbased_always_off", 1).sample(null, 0), false);
  assert.equal(createSampler("parentbased_always_off", 1).sample(true, 0), true);
});
