import assert from "node:assert/strict";
import { copyMessage } from "./message_copies.ts";

Deno.test("a message copy keeps its bytes when the read buffer is reused", () => {
  const read = new Uint8Array(64).map((_, i) => i);
  const first = copyMessage(read, 5, 12);
  const second = copyMessage(read, 20, 3);
  read.fill(0xff);
  assert.deepEqual([...first], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  assert.deepEqual([...second], [20, 21, 22]);
  second.fill(0);
  assert.equal(first[11], 16, "copies do not overlap");
});

Deno.test("small copies share a slab; large ones and a full slab get new memory", () => {
  const read = new Uint8Array(4096).fill(7);
  const a = copyMessage(read, 0, 100);
  const b = copyMessage(read, 0, 100);
  assert.equal(a.buffer, b.buffer, "consecutive small copies share one slab");
  assert.equal(b.byteOffset % 8, 0, "copies start 8-byte aligned");
  const large = copyMessage(read, 0, 2000);
  assert.notEqual(large.buffer, a.buffer);
  assert.equal(large.byteLength, large.buffer.byteLength, "a large copy owns its buffer");
  // 16 KiB slab: enough 1 KiB copies fill it, and the next starts another.
  const seen = new Set<ArrayBufferLike>();
  for (let i = 0; i < 20; i++) seen.add(copyMessage(read, 0, 1024).buffer);
  assert.ok(seen.size >= 2, "a full slab is replaced");
  assert.ok(copyMessage(read, 0, 0).length === 0);
});
