import assert from "node:assert/strict";
import { copyMessage, copyToSlab, currentSlab } from "./message_copies.ts";

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
  // 4 KiB slab: enough 1 KiB copies fill it, and the next starts another.
  const seen = new Set<ArrayBufferLike>();
  for (let i = 0; i < 20; i++) seen.add(copyMessage(read, 0, 1024).buffer);
  assert.ok(seen.size >= 2, "a full slab is replaced");
  assert.ok(copyMessage(read, 0, 0).length === 0);
});

Deno.test("copyToSlab: the bytes are at the returned offset of currentSlab(), until a full slab is replaced", () => {
  const read = new Uint8Array(64).map((_, i) => i);
  const offset = copyToSlab(read, 10, 5);
  const slab = currentSlab();
  read.fill(0);
  assert.deepEqual([...slab.subarray(offset, offset + 5)], [10, 11, 12, 13, 14]);
  assert.equal(copyToSlab(read, 0, 3) % 8, 0, "8-byte aligned");
  let replaced = false;
  for (let i = 0; i < 8 && !replaced; i++) {
    copyToSlab(read, 0, 1024);
    replaced = currentSlab() !== slab;
  }
  assert.ok(replaced, "a full slab is replaced");
  assert.deepEqual(
    [...slab.subarray(offset, offset + 5)],
    [10, 11, 12, 13, 14],
    "and the old one kept",
  );
});
