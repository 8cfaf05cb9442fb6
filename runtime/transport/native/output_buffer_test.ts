import assert from "node:assert/strict";
import { OutputBuffer } from "./output_buffer.ts";

Deno.test("a disposed OutputBuffer holds nothing and still takes frames", () => {
  const out = new OutputBuffer();
  out.bytes(new Uint8Array(100_000));
  out.dispose();
  assert.equal(out.length, 0);
  out.frame(0x6, 0, 0, new Uint8Array(8)); // PING
  assert.equal(out.length, 9 + 8);
  assert.equal(out.take().length, 17);
});
