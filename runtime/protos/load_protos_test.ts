import assert from "node:assert/strict";
import { GREETER_PROTO, KITCHEN_PROTO, protoDir } from "./_testing.ts";
import { loadProtos } from "./load_protos.ts";

const GRPC_PROTO = "/usr/share/grpc-proto";

Deno.test("loadProtos() describes every method of a service", async () => {
  await using tmp = await protoDir({ "hello.proto": GREETER_PROTO });
  const protos = await loadProtos({ files: [tmp.path("hello.proto")], includePaths: [] });
  const greeter = protos.services.get("helloworld.Greeter");
  assert.ok(greeter);
  assert.equal(greeter.file, tmp.path("hello.proto"));
  assert.deepEqual(
    greeter.methods.map((m) => [m.name, m.path, m.kind, m.idempotent]),
    [
      ["SayHello", "/helloworld.Greeter/SayHello", "unary", true],
      ["LotsOfReplies", "/helloworld.Greeter/LotsOfReplies", "server_stream", false],
      ["LotsOfGreetings", "/helloworld.Greeter/LotsOfGreetings", "client_stream", false],
      ["BidiHello", "/helloworld.Greeter/BidiHello", "bidi_stream", false],
      ["Ping", "/helloworld.Greeter/Ping", "unary", true],
    ],
  );
  const ping = greeter.methods[4];
  assert.equal(ping.requestType, "google.protobuf.Empty");
  assert.equal(ping.service, "helloworld.Greeter");
  assert.deepEqual(ping.decodeRequest(ping.encodeResponse({})), {});
  assert.deepEqual(protos.files, [tmp.path("hello.proto")]);
});

Deno.test("loadProtos() lists every loaded file in sources, built-ins included", async () => {
  await using tmp = await protoDir({ "hello.proto": GREETER_PROTO });
  const protos = await loadProtos({ files: [tmp.path("hello.proto")], includePaths: [] });
  assert.deepEqual([...protos.sources.values()], [
    {
      name: "hello.proto",
      path: tmp.path("hello.proto"),
      package: "helloworld",
      syntax: "proto3",
      imports: ["google/protobuf/empty.proto", "google/protobuf/timestamp.proto"],
    },
    {
      name: "google/protobuf/empty.proto",
      path: null,
      package: "google.protobuf",
      syntax: "proto3",
      imports: [],
    },
    {
      name: "google/protobuf/timestamp.proto",
      path: null,
      package: "google.protobuf",
      syntax: "proto3",
      imports: [],
    },
  ]);
  assert.equal(
    protos.root.lookupType("google.protobuf.Timestamp").filename,
    "google/protobuf/timestamp.proto",
  );
  assert.equal(protos.root.lookupType("helloworld.HelloReply").filename, "hello.proto");
});

Deno.test("loadProtos() loads the grpc interop protos through an include path", async () => {
  const protos = await loadProtos({
    files: [`${GRPC_PROTO}/grpc/testing/test.proto`],
    includePaths: [GRPC_PROTO],
  });
  const service = protos.services.get("grpc.testing.TestService");
  assert.ok(service);
  assert.deepEqual(
    service.methods.map((m) => `${m.name}:${m.kind}`),
    [
      "EmptyCall:unary",
      "UnaryCall:unary",
      "CacheableUnaryCall:unary",
      "StreamingOutputCall:server_stream",
      "StreamingInputCall:client_stream",
      "FullDuplexCall:bidi_stream",
      "HalfDuplexCall:bidi_stream",
      "UnimplementedCall:unary",
    ],
  );
  assert.deepEqual([...protos.sources.keys()], [
    "grpc/testing/test.proto",
    "grpc/testing/empty.proto",
    "grpc/testing/messages.proto",
  ]);
  const unary = service.methods[1];
  const request = unary.decodeRequest(
    unary.encodeRequest({ responseSize: 3, payload: { body: new Uint8Array([1, 2]) } }),
  ) as Record<string, unknown>;
  assert.equal(request.responseSize, 3);
  const payload = request.payload as { type: string; body: Uint8Array };
  assert.equal(payload.type, "COMPRESSABLE");
  assert.ok(payload.body instanceof Uint8Array);
  assert.deepEqual([...payload.body], [1, 2]);
});

Deno.test("loadProtos() walks directories recursively and resolves imports against them", async () => {
  await using tmp = await protoDir({
    "proto/b/kitchen.proto": KITCHEN_PROTO,
    "proto/a/uses.proto": `syntax = "proto3";
package uses;
import "b/kitchen.proto";
import "shared/common.proto";
service Uses { rpc Get (kitchen.v1.Point) returns (shared.Common); }
`,
    "proto/notes.txt": "not a proto",
    "include/shared/common.proto": `syntax = "proto3";
package shared;
message Common { string id = 1; }
service NotServed { rpc X (Common) returns (Common); }
`,
  });
  const protos = await loadProtos({
    files: [tmp.path("proto")],
    includePaths: [tmp.path("include")],
  });
  assert.deepEqual(protos.files, [
    tmp.path("proto/a/uses.proto"),
    tmp.path("proto/b/kitchen.proto"),
  ]);
  assert.deepEqual([...protos.services.keys()], ["uses.Uses", "kitchen.v1.Kitchen"]);
  assert.deepEqual([...protos.sources.keys()], [
    "a/uses.proto",
    "b/kitchen.proto",
    "shared/common.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/struct.proto",
    "google/protobuf/wrappers.proto",
  ]);
});

Deno.test("loadProtos() resolves imports against the directory of a configured file", async () => {
  await using tmp = await protoDir({
    "svc/main.proto": `syntax = "proto3";
import "types.proto";
service Main { rpc Get (T) returns (T); }
`,
    "svc/types.proto": `syntax = "proto3";\nmessage T { string id = 1; }\n`,
  });
  const protos = await loadProtos({ files: [tmp.path("svc/main.proto")], includePaths: [] });
  assert.deepEqual([...protos.services.keys()], ["Main"]);
  assert.equal(protos.services.get("Main")!.methods[0].requestType, "T");
});

Deno.test("loadProtos() loads google/protobuf/descriptor.proto for custom options", async () => {
  await using tmp = await protoDir({
    "opts.proto": `syntax = "proto3";
package opts;
import "google/protobuf/descriptor.proto";
extend google.protobuf.MethodOptions { string route = 50001; }
service S { rpc M (R) returns (R) { option (opts.route) = "/m"; } }
message R {}
`,
  });
  const protos = await loadProtos({ files: [tmp.dir], includePaths: [] });
  assert.deepEqual([...protos.services.keys()], ["opts.S"]);
  assert.equal(protos.sources.get("google/protobuf/descriptor.proto")?.syntax, "proto2");
});

Deno.test("loadProtos() loads a file once when it is both configured and imported", async () => {
  await using tmp = await protoDir({
    "p/a.proto": `syntax = "proto3";\nimport "b.proto";\nservice A { rpc M (B) returns (B); }\n`,
    "p/b.proto": `syntax = "proto3";\nmessage B {}\n`,
  });
  const protos = await loadProtos({
    files: [tmp.path("p/a.proto"), tmp.path("p/b.proto")],
    includePaths: [tmp.path("p")],
  });
  assert.deepEqual([...protos.sources.keys()], ["a.proto", "b.proto"]);
  assert.deepEqual(protos.files, [tmp.path("p/a.proto"), tmp.path("p/b.proto")]);
});

Deno.test("loadProtos() prefers built-in well-known types over copies in a configured directory", async () => {
  await using tmp = await protoDir({
    "proto/google/protobuf/timestamp.proto": "this copy is never parsed",
    "proto/app.proto": `syntax = "proto3";
import "google/protobuf/timestamp.proto";
message At { google.protobuf.Timestamp at = 1; }
service Clock { rpc Now (At) returns (At); }
`,
  });
  const protos = await loadProtos({ files: [tmp.path("proto")], includePaths: [] });
  assert.deepEqual(protos.files, [tmp.path("proto/app.proto")]);
  assert.equal(protos.sources.get("google/protobuf/timestamp.proto")?.path, null);
});
