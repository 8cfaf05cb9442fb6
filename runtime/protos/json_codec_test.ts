/**
 * Unit tests of the canonical JSON mapping where svc is deliberately
 * stricter or newer than Python's json_format (tests/json_mapping_test.ts
 * compares everything else with it), plus limits and error messages.
 * @module
 */
import assert from "node:assert/strict";
import type protobuf from "protobufjs";
import { protoDir } from "./_testing.ts";
import { binaryToJson, JsonMappingError, jsonToBinary } from "./json_codec.ts";
import { loadProtos } from "./load_protos.ts";

const PROTO = `syntax = "proto3";
package t;
import "google/protobuf/any.proto";
import "google/protobuf/timestamp.proto";
enum Color { COLOR_UNSPECIFIED = 0; RED = 1; }
message Point { int32 latitude = 1; int32 longitude = 2; }
message Feature { string name = 1; Point location = 2; }
message Msg {
  int32 foo_bar = 1;
  Color color = 2;
  repeated Feature features = 3;
  Msg child = 4;
  google.protobuf.Timestamp at = 5;
  google.protobuf.Any payload = 6;
  map<int64, string> by_id = 7;
  map<bool, int32> by_flag = 8;
}
`;

async function _types(): Promise<{ msg: protobuf.Type; root: protobuf.Root }> {
  await using tmp = await protoDir({ "t.proto": PROTO });
  const protos = await loadProtos({ files: [tmp.dir], includePaths: [] });
  return { msg: protos.root.lookupType("t.Msg"), root: protos.root };
}

function _error(fn: () => unknown): JsonMappingError {
  try {
    fn();
  } catch (error) {
    if (error instanceof JsonMappingError) return error;
    throw error;
  }
  throw new Error("expected a JsonMappingError");
}

Deno.test("jsonToBinary() names the field path in the message", async () => {
  const { msg } = await _types();
  const error = _error(() =>
    jsonToBinary(msg, '{"features": [{}, {}, {"location": {"latitude": "north"}}]}')
  );
  assert.equal(error.path, "features[2].location.latitude");
  assert.equal(error.message, 'features[2].location.latitude: expected an integer, got "north"');
});

Deno.test("jsonToBinary() refuses one field given by both its names", async () => {
  const { msg } = await _types();
  const error = _error(() => jsonToBinary(msg, '{"fooBar": 1, "foo_bar": 2}'));
  assert.equal(error.path, "foo_bar");
  assert.match(error.message, /given twice/);
});

Deno.test("jsonToBinary() with ignoreUnknownFields skips unknown fields and enum names", async () => {
  const { msg } = await _types();
  const bytes = jsonToBinary(msg, '{"nope": {"x": [1]}, "color": "PURPLE", "fooBar": 3}', {
    ignoreUnknownFields: true,
  });
  assert.equal(binaryToJson(msg, bytes), '{"fooBar":3}');
  assert.equal(_error(() => jsonToBinary(msg, '{"color": "PURPLE"}')).path, "color");
});

Deno.test("jsonToBinary() refuses JSON nested past maxDepth without overflowing the stack", async () => {
  const { msg } = await _types();
  const deep = '{"child":'.repeat(100_000) + "{}" + "}".repeat(100_000);
  assert.match(_error(() => jsonToBinary(msg, deep)).message, /nested deeper than 100 levels/);
  const list = "[".repeat(50) + "]".repeat(50);
  const shallow = _error(() => jsonToBinary(msg, `{"fooBar": ${list}}`, { maxDepth: 10 }));
  assert.match(shallow.message, /nested deeper than 10 levels/);
});

Deno.test("jsonToBinary() refuses malformed JSON with its offset", async () => {
  const { msg } = await _types();
  for (const text of ["", "{", '{"a" 1}', '{"a": tru}', '{"a": "\\x"}', "{}}", '{"a": 01}']) {
    const error = _error(() => jsonToBinary(msg, text));
    assert.equal(error.path, "", text);
    assert.match(error.message, /^Cannot parse JSON at offset \d+: /, text);
  }
});

Deno.test("binaryToJson() and jsonToBinary() round-trip 64-bit and bool map keys", async () => {
  const { msg } = await _types();
  const json = '{"byId":{"-9223372036854775808":"min","42":"x"},"byFlag":{"false":1,"true":2}}';
  assert.deepEqual(JSON.parse(binaryToJson(msg, jsonToBinary(msg, json))), JSON.parse(json));
});

Deno.test("binaryToJson() refuses bytes it cannot decode and values JSON cannot hold", async () => {
  const { msg, root } = await _types();
  assert.equal(_error(() => binaryToJson(msg, new Uint8Array([0x0a, 0x05, 0x01]))).path, "");
  // at = { seconds: 253402300800 } (year 10000): past what RFC 3339 can write.
  const timestamp = root.lookupType("google.protobuf.Timestamp");
  const late = timestamp.encode({ seconds: 253402300800 }).finish();
  const bytes = msg.encode(msg.fromObject({ at: timestamp.decode(late) })).finish();
  assert.equal(_error(() => binaryToJson(msg, bytes)).path, "at");
  const any = msg.encode(msg.fromObject({ payload: { type_url: "x/nope.Nope", value: [1] } }))
    .finish();
  assert.match(_error(() => binaryToJson(msg, any)).message, /^payload: cannot resolve Any type/);
});
