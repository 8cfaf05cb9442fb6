import assert from "node:assert/strict";
import { join } from "node:path";
import { Status } from "../core/errors.ts";
import { loadProtos, type MethodDescriptor } from "../protos/mod.ts";
import { COMMON_PROTO, EDGE_PROTO, KITCHEN_PROTO, tempProtos } from "./_testing.ts";
import { decodeFileDescriptor } from "./descriptor_types.ts";
import { createDescriptorIndex } from "./descriptors.ts";
import { REFLECTION_PROTOS } from "./reflection_protos.ts";
import {
  createReflectionServices,
  REFLECTION_V1_SERVICE,
  REFLECTION_V1ALPHA_SERVICE,
  type ReflectionRequest,
} from "./service.ts";

const SERVED = ["kitchen.v1.Kitchen", "grpc.health.v1.Health", REFLECTION_V1_SERVICE];

/**
 * Runs `requests` (as plain objects) through the real codec and the v1 or
 * v1alpha handler on one stream; returns the decoded responses.
 */
async function converse(
  version: "v1" | "v1alpha",
  requests: Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  await using tmp = await tempProtos({
    "kitchen/v1/kitchen.proto": KITCHEN_PROTO,
    "kitchen/v1/common.proto": COMMON_PROTO,
    "edge/edge.proto": EDGE_PROTO,
  });
  const builtins = await loadProtos({ files: [], includePaths: [], embedded: REFLECTION_PROTOS });
  const user = await loadProtos({
    files: [join(tmp.dir, "kitchen/v1/kitchen.proto"), join(tmp.dir, "edge/edge.proto")],
    includePaths: [tmp.dir],
  });
  const index = await createDescriptorIndex([builtins, user]);
  const [v1, v1alpha] = createReflectionServices(index, () => SERVED);
  const definition = version === "v1" ? v1 : v1alpha;
  const method: MethodDescriptor = builtins.services.get(definition.service)!.methods[0];
  async function* incoming() {
    for (const r of requests) yield method.decodeRequest(method.encodeRequest(r));
  }
  const handler = definition.methods.serverReflectionInfo as (
    reqs: AsyncIterable<ReflectionRequest>,
  ) => AsyncIterable<unknown>;
  const out: Record<string, unknown>[] = [];
  for await (const response of handler(incoming() as AsyncIterable<ReflectionRequest>)) {
    out.push(method.decodeResponse(method.encodeResponse(response)) as Record<string, unknown>);
  }
  return out;
}

function fileNames(response: Record<string, unknown>): string[] {
  const files = (response.fileDescriptorResponse as { fileDescriptorProto: Uint8Array[] })
    .fileDescriptorProto;
  return files.map((b) => decodeFileDescriptor(b).name);
}

Deno.test("createReflectionServices() defines v1 and v1alpha ServerReflection", () => {
  const services = createReflectionServices({
    files: new Map(),
    dependencies: new Map(),
    symbols: new Map(),
    messages: new Set(),
    extensions: new Map(),
    problems: [],
  }, () => []);
  assert.deepEqual(services.map((s) => s.service), [
    REFLECTION_V1_SERVICE,
    REFLECTION_V1ALPHA_SERVICE,
  ]);
  assert.deepEqual(Object.keys(services[0].methods), ["serverReflectionInfo"]);
});

Deno.test("serverReflectionInfo lists services and echoes host and request", async () => {
  const [reply] = await converse("v1", [{ host: "h:1", listServices: "*" }]);
  assert.equal(reply.validHost, "h:1");
  assert.deepEqual(
    (reply.originalRequest as ReflectionRequest).listServices,
    "*",
  );
  assert.deepEqual(reply.listServicesResponse, { service: SERVED.map((name) => ({ name })) });
});

Deno.test("serverReflectionInfo sends a symbol's file and its dependencies once per stream", async () => {
  const replies = await converse("v1", [
    { fileContainingSymbol: "kitchen.v1.Kitchen.Cook" },
    { fileContainingSymbol: "kitchen.v1.Sink.Inner" },
    { fileByFilename: "kitchen/v1/common.proto" },
    { fileContainingSymbol: ".kitchen.v1.Point" },
  ]);
  assert.deepEqual(fileNames(replies[0]), [
    "kitchen/v1/kitchen.proto",
    "google/protobuf/timestamp.proto",
    "kitchen/v1/common.proto",
    "google/protobuf/wrappers.proto",
    "google/protobuf/struct.proto",
  ]);
  assert.deepEqual(fileNames(replies[1]), ["kitchen/v1/kitchen.proto"]);
  assert.deepEqual(fileNames(replies[2]), ["kitchen/v1/common.proto"]);
  assert.deepEqual(fileNames(replies[3]), ["kitchen/v1/common.proto"]);
});

Deno.test("serverReflectionInfo answers extension questions", async () => {
  const replies = await converse("v1alpha", [
    { fileContainingExtension: { containingType: "edge.Promise", extensionNumber: 101 } },
    { allExtensionNumbersOfType: "edge.Promise" },
    { allExtensionNumbersOfType: "kitchen.v1.Sink" },
  ]);
  assert.deepEqual(fileNames(replies[0]), ["edge/edge.proto", "google/protobuf/descriptor.proto"]);
  assert.deepEqual(replies[1].allExtensionNumbersResponse, {
    baseTypeName: "edge.Promise",
    extensionNumber: [100, 101, 102],
  });
  assert.deepEqual(replies[2].allExtensionNumbersResponse, {
    baseTypeName: "kitchen.v1.Sink",
    extensionNumber: [],
  });
});

Deno.test("serverReflectionInfo answers unknown names with NOT_FOUND and keeps the stream", async () => {
  const replies = await converse("v1", [
    { fileByFilename: "no/such.proto" },
    { fileContainingSymbol: "no.Such" },
    { fileContainingExtension: { containingType: "edge.Promise", extensionNumber: 999 } },
    { allExtensionNumbersOfType: "no.Such" },
    { host: "only-host" },
    { fileContainingSymbol: "kitchen.v1.Point" },
  ]);
  const errors = replies.slice(0, 5).map((r) => r.errorResponse as Record<string, unknown>);
  assert.deepEqual(errors.map((e) => e.errorCode), [
    Status.NOT_FOUND,
    Status.NOT_FOUND,
    Status.NOT_FOUND,
    Status.NOT_FOUND,
    Status.INVALID_ARGUMENT,
  ]);
  assert.equal(errors[0].errorMessage, 'file not found: "no/such.proto"');
  assert.equal(errors[1].errorMessage, 'symbol not found: "no.Such"');
  assert.deepEqual(fileNames(replies[5]), ["kitchen/v1/common.proto"]);
});

Deno.test("serverReflectionInfo answers INTERNAL when answering fails, and goes on", async () => {
  const index = await createDescriptorIndex([]);
  const [v1] = createReflectionServices(index, () => {
    throw new Error("boom");
  });
  const logged: unknown[] = [];
  const log = { error: (...args: unknown[]) => logged.push(args) };
  async function* requests() {
    yield { listServices: "" };
    yield { fileByFilename: "x.proto" };
  }
  const handler = v1.methods.serverReflectionInfo as (
    reqs: AsyncIterable<ReflectionRequest>,
    ctx: unknown,
  ) => AsyncIterable<Record<string, { errorCode: number }>>;
  const codes = [];
  for await (const r of handler(requests(), { log })) codes.push(r.errorResponse.errorCode);
  assert.deepEqual(codes, [Status.INTERNAL, Status.NOT_FOUND]);
  assert.equal(logged.length, 1);
});
