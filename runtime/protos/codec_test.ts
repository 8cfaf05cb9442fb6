import assert from "node:assert/strict";
import { EDGE_PROTO, KITCHEN_PROTO, protoDir } from "./_testing.ts";
import { loadProtos } from "./load_protos.ts";
import type { MethodDescriptor } from "./types.ts";

async function cook(): Promise<MethodDescriptor> {
  await using tmp = await protoDir({ "kitchen.proto": KITCHEN_PROTO });
  const protos = await loadProtos({ files: [tmp.dir], includePaths: [] });
  return protos.services.get("kitchen.v1.Kitchen")!.methods[0];
}

type Sink = Record<string, unknown>;

Deno.test("decodeRequest() fills defaults; unset messages are null and oneofs absent", async () => {
  const method = await cook();
  const sink = method.decodeRequest(new Uint8Array()) as Sink;
  assert.deepEqual({ ...sink, data: [...(sink.data as Uint8Array)] }, {
    text: "",
    flag: false,
    i32: 0,
    u32: 0,
    s32: 0,
    i64: "0",
    u64: "0",
    sf64: "0",
    dbl: 0,
    flt: 0,
    data: [],
    color: "COLOR_UNSPECIFIED",
    colors: [],
    features: [],
    counts: {},
    namesById: {},
    byFlag: {},
    points: {},
    createdAt: null,
    extra: null,
    maybe: null,
    inner: null,
    next: null,
    bigList: [],
  });
  assert.ok(sink.data instanceof Uint8Array);
  assert.equal("label" in sink || "choice" in sink || "nickname" in sink, false);
});

Deno.test("encodeResponse() and decodeRequest() round-trip every kind of field", async () => {
  const method = await cook();
  const value = {
    text: "hi",
    flag: true,
    i32: -5,
    u32: 4294967295,
    s32: -2147483648,
    i64: "-9223372036854775808",
    u64: 18446744073709551615n,
    sf64: 42,
    dbl: 1.5,
    flt: 0.25,
    data: new Uint8Array([0, 255]),
    color: "GREEN",
    colors: ["RED", 2, 7],
    features: [{ name: "f", location: { latitude: 1, longitude: -1 } }],
    counts: { a: "12345678901234567" },
    namesById: { "-42": "minus", "9007199254740993": "big" },
    byFlag: { true: "yes", false: "no" },
    points: { 7: { latitude: 3 } },
    spot: { longitude: 9 },
    nickname: "",
    createdAt: { seconds: 1700000000, nanos: 5 },
    extra: { fields: { k: { stringValue: "v" }, n: { nullValue: "NULL_VALUE" } } },
    maybe: { value: "w" },
    inner: { mood: "ANGRY", children: [{ mood: 0 }] },
    next: { text: "nested", next: { i64: 1n } },
    bigList: ["1", 2, 3n],
  };
  const sink = method.decodeResponse(method.encodeResponse(value)) as Sink;
  assert.equal(sink.i64, "-9223372036854775808");
  assert.equal(sink.u64, "18446744073709551615");
  assert.equal(sink.sf64, "42");
  assert.deepEqual([...(sink.data as Uint8Array)], [0, 255]);
  assert.deepEqual(sink.colors, ["RED", "GREEN", 7]);
  assert.deepEqual(sink.features, [{ name: "f", location: { latitude: 1, longitude: -1 } }]);
  assert.deepEqual(sink.counts, { a: "12345678901234567" });
  assert.deepEqual(sink.namesById, { "-42": "minus", "9007199254740993": "big" });
  assert.deepEqual(sink.byFlag, { true: "yes", false: "no" });
  assert.deepEqual(sink.points, { 7: { latitude: 3, longitude: 0 } });
  assert.deepEqual([sink.choice, sink.spot, sink.label], [
    "spot",
    { latitude: 0, longitude: 9 },
    undefined,
  ]);
  assert.equal(sink.nickname, "");
  assert.deepEqual(sink.createdAt, { seconds: "1700000000", nanos: 5 });
  assert.equal(Object.getPrototypeOf(sink.createdAt), Object.prototype);
  assert.deepEqual(sink.extra, {
    fields: {
      k: { stringValue: "v", kind: "stringValue" },
      n: { nullValue: "NULL_VALUE", kind: "nullValue" },
    },
  });
  assert.deepEqual(sink.maybe, { value: "w" });
  assert.deepEqual(sink.inner, { mood: "ANGRY", children: [{ mood: "CALM", children: [] }] });
  assert.equal((sink.next as Sink).text, "nested");
  assert.equal(((sink.next as Sink).next as Sink).i64, "1");
  assert.deepEqual(sink.bigList, ["1", "2", "3"]);
});

Deno.test("encodeResponse() accepts a decoded message sent back unchanged", async () => {
  const method = await cook();
  const first = method.encodeResponse({
    nickname: "n",
    label: "l",
    data: "AAE=",
    namesById: { "5": "five" },
    byFlag: { false: "f" },
  });
  const decoded = method.decodeRequest(first) as Sink;
  assert.equal(decoded._nickname, "nickname"); // protobufjs's synthetic oneof for proto3 optional
  const again = method.encodeResponse(decoded);
  assert.deepEqual(method.decodeRequest(again), decoded);
  assert.deepEqual([...(decoded.data as Uint8Array)], [0, 1]);
});

Deno.test("encodeResponse() treats null and undefined fields as unset", async () => {
  const method = await cook();
  const bytes = method.encodeResponse({
    text: null,
    inner: undefined,
    features: null,
    label: null,
  });
  assert.equal(bytes.length, 0);
});

Deno.test("encodeRequest() accepts a Long for 64-bit fields", async () => {
  const { default: protobuf } = await import("protobufjs");
  const method = await cook();
  const Long = protobuf.util.Long as unknown as { fromString(text: string): unknown };
  const long = Long.fromString("123456789012");
  const sink = method.decodeResponse(method.encodeRequest({ i64: long })) as Sink;
  assert.equal(sink.i64, "123456789012");
});

Deno.test("decodeRequest() fills proto2 defaults, groups and extensions", async () => {
  await using tmp = await protoDir({ "edge.proto": EDGE_PROTO });
  const protos = await loadProtos({ files: [tmp.dir], includePaths: [] });
  const method = protos.services.get("edge.Uses")!.methods[0];
  const bytes = method.encodeResponse({ b: "x", g: { z: 1 }, m: { k: "B" }, ".edge.ext": "e" });
  assert.deepEqual(method.decodeRequest(bytes), {
    a: 5,
    b: "x",
    g: { z: 1 },
    m: { k: "B" },
    ".edge.ext": "e",
  });
  assert.throws(() => method.decodeRequest(new Uint8Array()), /missing required 'b'/);
});
