import assert from "node:assert/strict";
import { type HeaderField, HpackDecoder } from "./decoder.ts";
import { HpackEncoder } from "./encoder.ts";
import { HpackError } from "./errors.ts";

const LIMITS = { maxTableSize: 4096, maxHeaderListSize: 1 << 20 };

function roundTrip(e: HpackEncoder, d: HpackDecoder, fields: HeaderField[]): Uint8Array {
  const block = e.encode(fields);
  assert.deepEqual(d.decode(block, 0, block.length).fields, fields);
  return block;
}

Deno.test("encoder: repeated gRPC response fields cost one byte each", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder(LIMITS);
  const headers: HeaderField[] = [[":status", "200"], ["content-type", "application/grpc"]];
  const trailers: HeaderField[] = [["grpc-status", "0"]];
  roundTrip(e, d, headers);
  roundTrip(e, d, trailers);
  assert.equal(roundTrip(e, d, headers).length, 2);
  assert.equal(roundTrip(e, d, trailers).length, 1);
  // :status 200 is static index 8 from the very first block.
  assert.deepEqual(e.encode([[":status", "200"]]), new Uint8Array([0x88]));
});

Deno.test("encoder: one-off and large values do not enter the table", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder(LIMITS);
  roundTrip(e, d, [
    ["grpc-message", "not found"],
    ["x-trace-bin", "AAEC"],
    ["x-big", "b".repeat(100)],
    ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
  ]);
  assert.equal(e.dynamicTableSize, 0);
  assert.deepEqual(d.dynamicTableEntries(), []);
  // Small user metadata does, and is then indexed.
  roundTrip(e, d, [["x-user", "alice"]]);
  assert.equal(roundTrip(e, d, [["x-user", "alice"]]).length, 1);
});

Deno.test("encoder: sensitive fields use the never-indexed representation", () => {
  for (const name of ["authorization", "cookie", "set-cookie", "proxy-authorization"]) {
    const e = new HpackEncoder();
    const d = new HpackDecoder(LIMITS);
    const block = roundTrip(e, d, [[name, "secret"]]);
    assert.equal(block[0] & 0xf0, 0x10, name);
    assert.equal(e.dynamicTableSize, 0);
    // Never indexed, however often it repeats.
    assert.equal(roundTrip(e, d, [[name, "secret"]])[0] & 0xf0, 0x10);
  }
});

Deno.test("encoder: uses static name indexes for literals", () => {
  const e = new HpackEncoder();
  // content-type is static index 31: 0x40 | 31.
  assert.equal(e.encode([["content-type", "application/grpc"]])[0], 0x40 | 31);
  // :status 201 (not in the static table) names static index 8.
  assert.equal(e.encode([[":status", "201"]])[0], 0x40 | 8);
});

Deno.test("encoder: setMaxTableSize emits size updates at the next block start", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder(LIMITS);
  roundTrip(e, d, [["x-a", "1"], ["x-b", "2"]]);
  assert.equal(d.dynamicTableEntries().length, 2);

  e.setMaxTableSize(0);
  e.setMaxTableSize(8192);
  const block = roundTrip(e, d, [["x-a", "1"]]);
  // 0 then 4096 (capped): 0x20, then 0x3f e1 1f.
  assert.deepEqual([...block.subarray(0, 4)], [0x20, 0x3f, 0xe1, 0x1f]);
  assert.equal(d.dynamicTableCapacity, 4096);
  assert.deepEqual(d.dynamicTableEntries(), [["x-a", "1"]]);

  // No change pending: no update emitted.
  assert.equal(roundTrip(e, d, [["x-a", "1"]]).length, 1);

  // A zero-size table indexes nothing and still round-trips.
  e.setMaxTableSize(0);
  roundTrip(e, d, [["x-c", "3"], ["x-c", "3"]]);
  assert.equal(e.dynamicTableSize, 0);
  assert.equal(d.dynamicTableSize, 0);
});

Deno.test("encoder: evicts in step with the decoder on a small table", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder({ maxTableSize: 256, maxHeaderListSize: 1 << 20 });
  e.setMaxTableSize(256);
  for (let i = 0; i < 50; i++) {
    roundTrip(e, d, [["x-key", `value-${i % 7}`], ["x-other", `${i % 3}`]]);
    assert.equal(e.dynamicTableSize, d.dynamicTableSize);
  }
});

Deno.test("encoder: output is exactly sized and independent of later calls", () => {
  const e = new HpackEncoder();
  const first = e.encode([[":status", "200"]]);
  assert.equal(first.byteLength, 1);
  for (let i = 0; i < 10000; i++) e.encode([[":status", "404"], ["x-n", String(i % 50)]]);
  const big = e.encode([["x-big", "\x00".repeat(5000)]]);
  assert.ok(big.byteLength > 5000 && big.byteLength < 5020);
  assert.equal(big.byteLength, big.buffer.byteLength);
  assert.deepEqual(first, new Uint8Array([0x88]));
  assert.deepEqual(e.encode([]), new Uint8Array(0));
});

Deno.test("encoder: a transient block has encode's bytes, grows past the buffer, and is reused", () => {
  const copying = new HpackEncoder();
  const transient = new HpackEncoder();
  const lists: HeaderField[][] = [
    [[":status", "200"], ["content-type", "application/grpc"]],
    [["grpc-status", "0"], ["x-n", "1"]],
    [["x-big", "v".repeat(3000)], ["x-n", "2"]], // larger than the encoder's initial 512 bytes
    [[":status", "200"], ["content-type", "application/grpc"]],
  ];
  const buffers = lists.map((fields) => {
    const block = transient.encodeTransient(fields);
    assert.deepEqual(Array.from(block), Array.from(copying.encode(fields)));
    return block.buffer;
  });
  // No copy: consecutive blocks are views of one buffer, replaced only when a block outgrows it.
  assert.equal(buffers[1], buffers[0]);
  assert.notEqual(buffers[2], buffers[1]);
  assert.equal(buffers[3], buffers[2]);
  assert.equal(transient.dynamicTableSize, copying.dynamicTableSize);
});

Deno.test("encoder: latin1 values round-trip; wider chars throw without touching the table", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder(LIMITS);
  roundTrip(e, d, [["x-latin1", "caf\xe9 \x00\xff"]]);
  const before = e.dynamicTableSize;
  assert.throws(() => e.encode([["x-ok", "1"], ["x-bad", "\u20ac"]]), HpackError);
  assert.equal(e.dynamicTableSize, before);
  roundTrip(e, d, [["x-ok", "1"]]);
});
