import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { decodeBudget, DecodeBudgetError } from "./decode_cost.ts";

const root = protobuf.parse(`syntax = "proto3"; package t;
message Empty {}
message Row { string name = 1; repeated int64 ids = 2; }
message Batch { repeated Row rows = 1; }
message Req {
  repeated Empty empties = 1;
  Batch batch = 2;
  map<string, Row> by_name = 3;
  repeated double values = 4 [packed = true];
  string note = 5;
}`).root;
const Req = root.lookupType("t.Req");
const encode = (value: object) => Req.encode(Req.fromObject(value)).finish();
const MiB = 2 ** 20;

Deno.test("decodeBudget() refuses 2 million empty sub-messages, naming the field", () => {
  const bytes = encode({ empties: Array.from({ length: 2_000_000 }, () => ({})) });
  const check = decodeBudget(Req, 64 * MiB);
  assert.throws(() => check(bytes), (error: unknown) => {
    assert.ok(error instanceof DecodeBudgetError);
    assert.equal(error.field, "empties");
    assert.equal(error.count, 2_000_000);
    assert.ok(error.estimate > 200 * MiB, `estimate ${error.estimate}`);
    assert.match(error.message, /^t\.Req would decode to about \d+ MiB in memory, over the 64 MiB/);
    return true;
  });
});

Deno.test("decodeBudget() names a nested field by its path, and map entries by the map", () => {
  const nested = encode({
    batch: { rows: [{ name: "r", ids: Array.from({ length: 700_000 }, (_, i) => i) }] },
  });
  assert.throws(() => decodeBudget(Req, 32 * MiB)(nested), { field: "batch.rows.ids" });
  const map = encode({
    byName: Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, {}])),
  });
  assert.throws(() => decodeBudget(Req, 32 * MiB)(map), { field: "byName" });
});

Deno.test("decodeBudget() lets an ordinary large message through", () => {
  const rows = Array.from({ length: 40_000 }, (_, i) => ({ name: `row-${i}`, ids: [i, i + 1] }));
  const bytes = encode({
    batch: { rows },
    values: Array.from({ length: 100_000 }, (_, i) => i / 3),
    note: "x".repeat(100_000),
  });
  decodeBudget(Req, 64 * MiB)(bytes);
});

Deno.test("decodeBudget() charges unknown fields nothing and stops at a truncated message", () => {
  // Field 15 is unknown: protobufjs skips it, so it costs nothing however often it repeats.
  const unknown = new Uint8Array(200_000).fill(0).map((_, i) => i % 2 === 0 ? 0x78 : 0x01);
  decodeBudget(Req, 1 * MiB)(unknown);
  decodeBudget(Req, 1 * MiB)(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x7f]));
});
