import assert from "node:assert/strict";
import { join } from "node:path";
import { loadProtos } from "../protos/mod.ts";
import {
  COMMON_PROTO,
  EDGE_PROTO,
  encodeSet,
  GRPC_PROTO_DIR,
  KITCHEN_PROTO,
  normalized,
  protoc,
  protocDescriptors,
  protocMissing,
  tempProtos,
  writeWellKnownSet,
} from "./_testing.ts";
import { decodeFileDescriptor } from "./descriptor_types.ts";
import {
  createDescriptorIndex,
  type DescriptorIndex,
  fileWithDependencies,
} from "./descriptors.ts";
import { REFLECTION_PROTOS } from "./reflection_protos.ts";

const noProtoc = await protocMissing();
const noGrpcProto = await Deno.stat(`${GRPC_PROTO_DIR}/grpc/testing/test.proto`).then(
  () => null,
  () => `${GRPC_PROTO_DIR} is missing (apt-get install grpc-proto)`,
);

/** Asserts every file of `index` equals protoc's description of it. */
function assertSameAsProtoc(index: DescriptorIndex, theirs: Map<string, Uint8Array>): void {
  assert.deepEqual([...index.files.keys()].sort(), [...theirs.keys()].sort());
  for (const [name, bytes] of index.files) {
    assert.deepEqual(normalized(bytes), normalized(theirs.get(name)!), name);
  }
}

Deno.test({
  name: "createDescriptorIndex() describes grpc/testing/test.proto and its imports as protoc does",
  ignore: noProtoc !== null || noGrpcProto !== null,
  async fn() {
    const files = ["grpc/testing/test.proto"];
    const set = await loadProtos({
      files: files.map((f) => join(GRPC_PROTO_DIR, f)),
      includePaths: [GRPC_PROTO_DIR],
    });
    const index = await createDescriptorIndex([set]);
    assertSameAsProtoc(index, await protocDescriptors(files, [GRPC_PROTO_DIR]));
    assert.deepEqual(index.dependencies.get("grpc/testing/test.proto"), [
      "grpc/testing/empty.proto",
      "grpc/testing/messages.proto",
    ]);
  },
});

Deno.test({
  name: "createDescriptorIndex() matches protoc on maps, oneofs, proto3 optional, groups, " +
    "extensions, defaults and options",
  ignore: noProtoc !== null,
  async fn() {
    await using tmp = await tempProtos({
      "kitchen/v1/kitchen.proto": KITCHEN_PROTO,
      "kitchen/v1/common.proto": COMMON_PROTO,
      "edge/edge.proto": EDGE_PROTO,
    });
    const files = ["kitchen/v1/kitchen.proto", "edge/edge.proto"];
    const set = await loadProtos({
      files: files.map((f) => join(tmp.dir, f)),
      includePaths: [tmp.dir],
    });
    const index = await createDescriptorIndex([set]);
    assertSameAsProtoc(index, await protocDescriptors(files, [tmp.dir]));

    const kitchen = decodeFileDescriptor(index.files.get("kitchen/v1/kitchen.proto")!);
    assert.deepEqual(kitchen.publicDependency, [1]);
    const sink = kitchen.messageType.find((m) => m.name === "Sink")!;
    assert.deepEqual(sink.oneofDecl.map((o) => o.name), [
      "choice",
      "second",
      "_nick_name",
      "X_under", // "_under" is the field's own name: protoc prefixes X

      "_maybe_inner",
    ]);
  },
});

Deno.test({
  name: "createDescriptorIndex() encodes custom options (scalar, repeated, enum, message) " +
    "exactly as protoc",
  ignore: noProtoc !== null,
  async fn() {
    await using tmp = await tempProtos({ "edge/edge.proto": EDGE_PROTO });
    const set = await loadProtos({
      files: [join(tmp.dir, "edge/edge.proto")],
      includePaths: [tmp.dir],
    });
    const index = await createDescriptorIndex([set]);
    const theirs = await protocDescriptors(["edge/edge.proto"], [tmp.dir]);
    // Decoding with edge.proto in scope prints extensions as [edge.route]: "/m".
    const wkt = join(tmp.dir, "wkt.pb");
    await writeWellKnownSet(wkt);
    const asText = async (file: Uint8Array) =>
      new TextDecoder().decode(
        await protoc([
          `--descriptor_set_in=${wkt}`,
          `-I${tmp.dir}`,
          "--decode=google.protobuf.FileDescriptorSet",
          "google/protobuf/descriptor.proto",
          "edge/edge.proto",
        ], encodeSet([file])),
      );
    const mine = await asText(index.files.get("edge/edge.proto")!);
    assert.equal(mine, await asText(theirs.get("edge/edge.proto")!));
    assert.match(mine, /\[edge\.http\] \{\n\s+get: "\/v1\/m"/);
    assert.match(mine, /\[edge\.nums\]: 1\n\s+\[edge\.nums\]: 2/);
    assert.match(mine, /\[edge\.file_tag\]: "edgy"/);
  },
});

Deno.test({
  name: "createDescriptorIndex() keeps embedded protos' names and serves built-in " +
    "well-known types",
  ignore: noProtoc !== null || noGrpcProto !== null,
  async fn() {
    const builtins = await loadProtos({ files: [], includePaths: [], embedded: REFLECTION_PROTOS });
    const renamed = {
      name: "x/renamed.proto",
      source: 'syntax = "proto3";\npackage x;\nmessage R { string oddName = 1; }\n',
    };
    const user = await loadProtos({ files: [], includePaths: [], embedded: [renamed] });
    const index = await createDescriptorIndex([builtins, user]);
    const files = [
      "grpc/reflection/v1/reflection.proto",
      "grpc/reflection/v1alpha/reflection.proto",
    ];
    const theirs = await protocDescriptors(files, [GRPC_PROTO_DIR]);
    for (const name of files) {
      assert.deepEqual(normalized(index.files.get(name)!), normalized(theirs.get(name)!), name);
    }
    assert.ok(index.files.has("google/protobuf/descriptor.proto") === false);
    // Without its source only the loaded root's "oddName" is known; the guess is snake_case.
    const guessed = decodeFileDescriptor(index.files.get("x/renamed.proto")!);
    assert.equal(guessed.messageType[0].field[0].name, "odd_name");
    const exact = await createDescriptorIndex([user], { embedded: [renamed] });
    const kept = decodeFileDescriptor(exact.files.get("x/renamed.proto")!);
    assert.equal(kept.messageType[0].field[0].name, "oddName");
  },
});

Deno.test("createDescriptorIndex() indexes symbols, messages and extensions", async () => {
  await using tmp = await tempProtos({
    "kitchen/v1/kitchen.proto": KITCHEN_PROTO,
    "kitchen/v1/common.proto": COMMON_PROTO,
    "edge/edge.proto": EDGE_PROTO,
  });
  const set = await loadProtos({
    files: [join(tmp.dir, "kitchen/v1/kitchen.proto"), join(tmp.dir, "edge/edge.proto")],
    includePaths: [tmp.dir],
  });
  const index = await createDescriptorIndex([set]);
  const expected: Record<string, string> = {
    "kitchen.v1.Kitchen": "kitchen/v1/kitchen.proto",
    "kitchen.v1.Kitchen.Route": "kitchen/v1/kitchen.proto",
    "kitchen.v1.Sink": "kitchen/v1/kitchen.proto",
    "kitchen.v1.Sink.Inner.Mood": "kitchen/v1/kitchen.proto",
    "kitchen.v1.Sink.Inner.CALM": "kitchen/v1/kitchen.proto",
    "kitchen.v1.Sink.CountsEntry": "kitchen/v1/kitchen.proto",
    "kitchen.v1.Sink.names_by_id": "kitchen/v1/kitchen.proto",
    "kitchen.v1.Sink.choice": "kitchen/v1/kitchen.proto",
    "kitchen.v1.Color": "kitchen/v1/kitchen.proto",
    "kitchen.v1.CRIMSON": "kitchen/v1/kitchen.proto",
    "kitchen.v1.Point": "kitchen/v1/common.proto",
    "google.protobuf.Timestamp": "google/protobuf/timestamp.proto",
    "google.protobuf.MethodOptions": "google/protobuf/descriptor.proto",
    "edge.route": "edge/edge.proto",
    "edge.Promise.nested_ext": "edge/edge.proto",
    "edge.Promise.G": "edge/edge.proto",
  };
  for (const [symbol, file] of Object.entries(expected)) {
    assert.equal(index.symbols.get(symbol), file, symbol);
  }
  assert.ok(index.messages.has("kitchen.v1.Sink.Inner.ByNameEntry"));
  assert.ok(!index.messages.has("kitchen.v1.Color"));
  assert.deepEqual([...index.extensions.get("edge.Promise")!.keys()].sort(), [100, 101, 102]);
  assert.equal(
    index.extensions.get("google.protobuf.MethodOptions")!.get(50002),
    "edge/edge.proto",
  );
});

Deno.test("fileWithDependencies() sends each dependency once per stream, the file always", async () => {
  await using tmp = await tempProtos({
    "kitchen/v1/kitchen.proto": KITCHEN_PROTO,
    "kitchen/v1/common.proto": COMMON_PROTO,
  });
  const set = await loadProtos({
    files: [join(tmp.dir, "kitchen/v1/kitchen.proto")],
    includePaths: [tmp.dir],
  });
  const index = await createDescriptorIndex([set]);
  const names = (list: Uint8Array[] | null) => list!.map((b) => decodeFileDescriptor(b).name);
  const sent = new Set<string>();
  assert.deepEqual(names(fileWithDependencies(index, "kitchen/v1/common.proto", sent)), [
    "kitchen/v1/common.proto",
  ]);
  assert.deepEqual(names(fileWithDependencies(index, "kitchen/v1/kitchen.proto", sent)), [
    "kitchen/v1/kitchen.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/wrappers.proto",
    "google/protobuf/struct.proto",
  ]);
  assert.deepEqual(names(fileWithDependencies(index, "kitchen/v1/kitchen.proto", sent)), [
    "kitchen/v1/kitchen.proto",
  ]);
  assert.equal(fileWithDependencies(index, "no/such.proto", sent), null);
});

Deno.test("createDescriptorIndex() writes editions files with features, never required labels", async () => {
  await using tmp = await tempProtos({
    "ed.proto": `edition = "2023";
package ed;
option features.field_presence = IMPLICIT;
message M {
  string a = 1 [features.field_presence = EXPLICIT];
  int32 b = 2 [features.field_presence = LEGACY_REQUIRED];
}
`,
  });
  const set = await loadProtos({ files: [join(tmp.dir, "ed.proto")], includePaths: [tmp.dir] });
  const index = await createDescriptorIndex([set]);
  assert.deepEqual(index.problems, []);
  const file = decodeFileDescriptor(index.files.get("ed.proto")!);
  assert.equal(file.syntax, "editions");
  assert.equal(file.edition, 1000);
  assert.deepEqual((file.options as { features: unknown }).features, { fieldPresence: 2 });
  const [message] = file.messageType;
  assert.equal(message.options, undefined, "file features stay on the file");
  const fields = message.field as unknown as { label: number; options: { features: unknown } }[];
  assert.deepEqual(fields.map((f) => f.label), [1, 1]);
  assert.deepEqual(fields[1].options.features, { fieldPresence: 3 });
});
