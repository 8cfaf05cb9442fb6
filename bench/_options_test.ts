import assert from "node:assert/strict";
import { parseOptions } from "./_options.ts";

Deno.test("fixed-rate cases warm up 10 s by default, every case 3; --quick warms each 0.25 s", () => {
  const standard = parseOptions([]);
  assert.equal(standard.warmup, 3);
  assert.equal(standard.warmupFixedRate, 10);
  const quick = parseOptions(["--quick"]);
  assert.equal(quick.warmup, 0.25);
  assert.equal(quick.warmupFixedRate, 0.25);
});

Deno.test("a --warmup given is every case's, fixed-rate ones too", () => {
  const options = parseOptions(["--warmup", "5"]);
  assert.equal(options.warmup, 5);
  assert.equal(options.warmupFixedRate, 5);
});
