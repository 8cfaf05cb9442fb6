import assert from "node:assert/strict";
import { latin1, latin1Cached } from "./latin1.ts";
import { prng, randInt } from "./_testing.ts";

Deno.test("latin1Cached() returns what latin1() does", () => {
  const rand = prng(11);
  const seen: Uint8Array[] = [];
  for (let i = 0; i < 20_000; i++) {
    // Mostly a few repeating inputs (the cached case), some fresh ones, all lengths 0..80.
    const bytes = i % 3 === 0 || seen.length < 8
      ? Uint8Array.from({ length: randInt(rand, 81) }, () => randInt(rand, 256))
      : seen[randInt(rand, seen.length)];
    if (seen.length < 8) seen.push(bytes);
    const padded = new Uint8Array(bytes.length + 4);
    padded.set(bytes, 2);
    assert.equal(latin1Cached(padded, 2, 2 + bytes.length), latin1(bytes, 0, bytes.length));
  }
});
