import assert from "node:assert/strict";
import { EDGE_PROTO, KITCHEN_PROTO, protoDir } from "./_testing.ts";
import { loadProtos } from "./load_protos.ts";
import { MessageShapeError, type MethodDescriptor } from "./types.ts";

async function cook(): Promise<MethodDescriptor> {
  await using tmp = await protoDir({ "kitchen.proto": KITCHEN_PROTO });
  const protos = await loadProtos({ files: [tmp.dir], includePaths: [] });
  return protos.services.get("kitchen.v1.Kitchen")!.methods[0];
}

function shapeError(method: MethodDescriptor, value: unknown): [string, string] {
  try {
    method.encodeResponse(value);
  } catch (error) {
    assert.ok(error instanceof MessageShapeError, `expected MessageShapeError, got ${error}`);
    return [error.field, error.message];
  }
  throw new Error(`no MessageShapeError for ${JSON.stringify(value)}`);
}

const S = "kitchen.v1.Sink";

Deno.test("encodeResponse() rejects scalars of the wrong type", async () => {
  const m = await cook();
  assert.deepEqual(shapeError(m, { text: 5 }), ["text", `${S}.text: expected string, got number`]);
  assert.deepEqual(shapeError(m, { flag: "yes" }), [
    "flag",
    `${S}.flag: expected bool, got string`,
  ]);
  assert.deepEqual(shapeError(m, { dbl: "1" }), ["dbl", `${S}.dbl: expected double, got string`]);
  assert.deepEqual(shapeError(m, { flt: 1n }), ["flt", `${S}.flt: expected float, got bigint`]);
});

Deno.test("encodeResponse() rejects 32-bit integers that are fractional or out of range", async () => {
  const m = await cook();
  assert.deepEqual(shapeError(m, { i32: 1.5 }), [
    "i32",
    `${S}.i32: expected int32, got 1.5 (not an integer)`,
  ]);
  assert.deepEqual(shapeError(m, { i32: 2 ** 31 }), [
    "i32",
    `${S}.i32: expected int32, got 2147483648 (out of range)`,
  ]);
  assert.deepEqual(shapeError(m, { u32: -1 }), [
    "u32",
    `${S}.u32: expected uint32, got -1 (out of range)`,
  ]);
  assert.deepEqual(shapeError(m, { s32: "3" }), ["s32", `${S}.s32: expected int32, got string`]);
});

Deno.test("encodeResponse() rejects bad 64-bit integers", async () => {
  const m = await cook();
  const hint = "(integer number, bigint or decimal string)";
  assert.deepEqual(shapeError(m, { i64: "12x" }), [
    "i64",
    `${S}.i64: expected int64 ${hint}, got "12x"`,
  ]);
  assert.deepEqual(shapeError(m, { i64: 2n ** 63n }), [
    "i64",
    `${S}.i64: expected int64 ${hint}, got 9223372036854775808n (out of range)`,
  ]);
  assert.deepEqual(shapeError(m, { u64: "-1" }), [
    "u64",
    `${S}.u64: expected uint64 ${hint}, got "-1" (out of range)`,
  ]);
  assert.deepEqual(shapeError(m, { u64: "18446744073709551616" }), [
    "u64",
    `${S}.u64: expected uint64 ${hint}, got "18446744073709551616" (out of range)`,
  ]);
  assert.deepEqual(shapeError(m, { sf64: 0.5 }), [
    "sf64",
    `${S}.sf64: expected int64 ${hint}, got 0.5 (not an integer)`,
  ]);
  assert.deepEqual(shapeError(m, { bigList: [1, true] }), [
    "bigList[1]",
    `${S}.bigList[1]: expected uint64 ${hint}, got boolean`,
  ]);
});

Deno.test("encodeResponse() rejects bytes that are neither Uint8Array nor base64", async () => {
  const m = await cook();
  const expected = "expected bytes (Uint8Array or base64 string)";
  assert.deepEqual(shapeError(m, { data: [1, 2] }), ["data", `${S}.data: ${expected}, got array`]);
  assert.deepEqual(shapeError(m, { data: "not base64!" }), [
    "data",
    `${S}.data: ${expected}, got a string that is not base64`,
  ]);
});

Deno.test("encodeResponse() rejects unknown enum names and non-integer enum numbers", async () => {
  const m = await cook();
  const expected =
    `expected kitchen.v1.Color (one of "COLOR_UNSPECIFIED", "RED", "GREEN", or a number)`;
  assert.deepEqual(shapeError(m, { color: "PURPLE" }), [
    "color",
    `${S}.color: ${expected}, got "PURPLE"`,
  ]);
  assert.deepEqual(shapeError(m, { colors: ["RED", 1.5] }), [
    "colors[1]",
    `${S}.colors[1]: ${expected}, got 1.5`,
  ]);
  assert.deepEqual(shapeError(m, { inner: { mood: true } }), [
    "inner.mood",
    `kitchen.v1.Sink.Inner.mood: expected kitchen.v1.Sink.Inner.Mood (one of "CALM", "ANGRY", or a number), got boolean`,
  ]);
});

Deno.test("encodeResponse() names the full path of a nested field", async () => {
  const m = await cook();
  const features = [{}, {}, { location: { latitude: "north" } }];
  assert.deepEqual(shapeError(m, { features }), [
    "features[2].location.latitude",
    "kitchen.v1.Point.latitude: expected int32, got string",
  ]);
  assert.deepEqual(
    shapeError(m, { next: { next: { inner: { children: [{}, { mood: "SAD" }] } } } })[0],
    "next.next.inner.children[1].mood",
  );
});

Deno.test("encodeResponse() rejects messages, arrays and maps of the wrong shape", async () => {
  const m = await cook();
  assert.deepEqual(shapeError(m, "hello"), ["", `${S}: expected a plain object, got string`]);
  assert.deepEqual(shapeError(m, new Date(0)), ["", `${S}: expected a plain object, got Date`]);
  assert.deepEqual(shapeError(m, { inner: [] }), [
    "inner",
    `${S}.inner: expected kitchen.v1.Sink.Inner (a plain object), got array`,
  ]);
  assert.deepEqual(shapeError(m, { features: { name: "x" } }), [
    "features",
    `${S}.features: expected an array, got object`,
  ]);
  assert.deepEqual(shapeError(m, { features: [null] }), [
    "features[0]",
    `${S}.features[0]: expected kitchen.v1.Feature (a plain object), got null`,
  ]);
  assert.deepEqual(shapeError(m, { counts: new Map() }), [
    "counts",
    `${S}.counts: expected a plain object (map), got Map`,
  ]);
  assert.deepEqual(shapeError(m, { points: { x: {} } }), [
    'points["x"]',
    `${S}.points: expected int32 key (a decimal integer in range), got "x"`,
  ]);
  assert.deepEqual(shapeError(m, { byFlag: { yes: "" } }), [
    'byFlag["yes"]',
    `${S}.byFlag: expected "true" or "false" as bool key, got "yes"`,
  ]);
  assert.deepEqual(shapeError(m, { counts: { a: 1.5 } }), [
    'counts["a"]',
    `${S}.counts["a"]: expected int64 (integer number, bigint or decimal string), got 1.5 (not an integer)`,
  ]);
  assert.deepEqual(shapeError(m, { points: { 1: { latitude: null, bogus: 1 } } }), [
    'points["1"].bogus',
    'unknown field "bogus" in kitchen.v1.Point',
  ]);
});

Deno.test("encodeResponse() rejects unknown fields, suggesting the camelCase name", async () => {
  const m = await cook();
  assert.deepEqual(shapeError(m, { created_at: {} }), [
    "created_at",
    `unknown field "created_at" in ${S} (did you mean "createdAt"?)`,
  ]);
  assert.deepEqual(shapeError(m, { txet: "" }), [
    "txet",
    `unknown field "txet" in ${S} (did you mean "text"?)`,
  ]);
  assert.deepEqual(shapeError(m, { completelyDifferent: 1 }), [
    "completelyDifferent",
    `unknown field "completelyDifferent" in ${S}`,
  ]);
});

Deno.test("encodeResponse() rejects two members of one oneof and a bad oneof name", async () => {
  const m = await cook();
  assert.deepEqual(shapeError(m, { label: "a", number: 1 }), [
    "number",
    `${S}: oneof "choice" has both "label" and "number" set; set at most one`,
  ]);
  assert.deepEqual(shapeError(m, { choice: "nope" }), [
    "choice",
    `${S}.choice: expected the name of the set oneof member ("label", "number", "spot"), got "nope"`,
  ]);
  m.encodeResponse({ label: "a", number: null, choice: "label" });
});

Deno.test("encodeResponse() stops at a cycle instead of overflowing the stack", async () => {
  const m = await cook();
  const loop: Record<string, unknown> = { text: "x" };
  loop.next = loop;
  const [field, message] = shapeError(m, loop);
  assert.match(field, /^(next\.){100}next$/);
  assert.equal(message, `${S}: nested more than 100 levels deep`);
});

Deno.test("encodeResponse() rejects a message missing a proto2 required field", async () => {
  await using tmp = await protoDir({ "edge.proto": EDGE_PROTO });
  const protos = await loadProtos({ files: [tmp.dir], includePaths: [] });
  const m = protos.services.get("edge.Uses")!.methods[0];
  assert.deepEqual(shapeError(m, { a: 1, b: null }), [
    "b",
    "edge.Promise.b: required field is not set",
  ]);
  assert.deepEqual(shapeError(m, { b: "", g: { y: 1 } }), [
    "g.y",
    'unknown field "y" in edge.Promise.G',
  ]);
});
