/**
 * Server reflection seen by Python grpcio: the client lists services,
 * rebuilds the protos from the served descriptors in a DescriptorPool, and
 * calls a method with messages built from that pool alone (no .proto, no
 * generated code), as grpcurl does.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, startSvc } from "./_harness.ts";
import { pythonGrpcMissing, runPython } from "./_python.ts";

const GRPC_PROTO_DIR = "/usr/share/grpc-proto";
const INTEROP = `${ROOT}/examples/interop/svc.yaml`;
const REFLECTION_V1 = "grpc.reflection.v1.ServerReflection";
const REFLECTION_V1ALPHA = "grpc.reflection.v1alpha.ServerReflection";

async function whyNot(): Promise<string | null> {
  const python = await pythonGrpcMissing();
  if (python) return python;
  const protos = await Deno.stat(`${GRPC_PROTO_DIR}/grpc/testing/test.proto`).catch(() => null);
  if (!protos) return `${GRPC_PROTO_DIR} is missing (apt-get install grpc-proto)`;
  const builtins = await Deno.readTextFile(`${ROOT}/runtime/app/builtins.ts`).catch(() => "");
  if (!builtins.includes("../reflection/")) {
    return "reflection is not wired into runtime/app yet";
  }
  return null;
}

const skip = await whyNot();
if (skip) console.log(`reflection_py_test: skipped: ${skip}`);

/** The "serving" line's `services`; fails the test when reflection is not among them. */
function assertServesReflection(logs: Record<string, unknown>[]): string[] {
  const serving = logs.find((l) => l.msg === "serving");
  const services = (serving?.services ?? []) as string[];
  assert.ok(
    services.includes(REFLECTION_V1) && services.includes(REFLECTION_V1ALPHA),
    `the "serving" line lists no reflection service: ${JSON.stringify(services)}`,
  );
  return services;
}

Deno.test({
  name: "reflection v1 and v1alpha let Python grpcio call the interop server without its protos",
  ignore: skip !== null,
  async fn(t) {
    await using svc = await startSvc({ config: INTEROP });
    const services = assertServesReflection(svc.logs());
    const port = String(svc.port);

    for (const version of ["v1", "v1alpha"]) {
      await t.step(
        `${version}: list, describe grpc.testing.TestService, call UnaryCall`,
        async () => {
          const [listed, found, missing, called] = await runPython("reflection_client.py", [
            "--port",
            port,
            "--version",
            version,
            "--symbol",
            "grpc.testing.TestService",
            "--call",
            "/grpc.testing.TestService/UnaryCall",
            "--request",
            JSON.stringify({ responseSize: 3 }),
          ]);
          assert.deepEqual(listed.services, services);
          assert.ok((listed.services as string[]).includes("grpc.health.v1.Health"));
          assert.deepEqual(found.files, [
            "grpc/testing/empty.proto",
            "grpc/testing/messages.proto",
            "grpc/testing/test.proto",
          ]);
          const methods = found.methods as Record<string, string[]>;
          assert.deepEqual(methods.UnaryCall, [
            "grpc.testing.SimpleRequest",
            "grpc.testing.SimpleResponse",
          ]);
          assert.deepEqual(methods.EmptyCall, ["grpc.testing.Empty", "grpc.testing.Empty"]);
          assert.equal((missing.not_found as { code: number }).code, 5);
          // Three zero bytes, base64.
          assert.deepEqual(called.response, { payload: { body: "AAAA" } });
        },
      );
    }

    await t.step("the reflection service describes itself and health", async () => {
      for (const symbol of [REFLECTION_V1, "grpc.health.v1.Health"]) {
        const [, found] = await runPython("reflection_client.py", [
          "--port",
          port,
          "--symbol",
          symbol,
        ]);
        assert.ok(Object.keys(found.methods as object).length > 0, symbol);
      }
    });
  },
});

/** Well-known types, a public import, maps, oneofs, proto3 optional and nested types. */
const SHOP_PROTO = `syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
import public "shop/v1/money.proto";

message Order {
  message Line { string sku = 1; uint32 quantity = 2; Money price = 3; }
  enum State { STATE_UNSPECIFIED = 0; OPEN = 1; PAID = 2; }
  string order_id = 1;
  repeated Line lines = 2;
  map<string, string> labels = 3;
  oneof payment { string card_token = 4; string voucher = 5; }
  optional string note = 6;
  google.protobuf.Timestamp created_at = 7;
  google.protobuf.StringValue coupon = 8;
  State state = 9;
}

service Shop {
  rpc Place (Order) returns (Order);
  rpc Watch (Order) returns (stream Order) { option idempotency_level = NO_SIDE_EFFECTS; }
}
`;

const MONEY_PROTO = `syntax = "proto3";
package shop.v1;
message Money { string currency = 1; int64 units = 2; int32 nanos = 3; }
`;

Deno.test({
  name:
    "reflection serves well-known types and public imports that Python's DescriptorPool accepts",
  ignore: skip !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "svc_reflection_py_" });
    try {
      await Deno.mkdir(join(dir, "proto/shop/v1"), { recursive: true });
      await Deno.mkdir(join(dir, "handlers"));
      await Deno.writeTextFile(join(dir, "proto/shop/v1/shop.proto"), SHOP_PROTO);
      await Deno.writeTextFile(join(dir, "proto/shop/v1/money.proto"), MONEY_PROTO);
      await Deno.writeTextFile(
        join(dir, "svc.yaml"),
        "service:\n  name: shop\nprotos:\n  files: [proto/shop/v1/shop.proto]\n" +
          "  includePaths: [proto]\nhandlers: handlers\nadmin:\n  enabled: false\n",
      );
      await using svc = await startSvc({ config: join(dir, "svc.yaml"), cwd: dir });
      assertServesReflection(svc.logs());
      const [, found] = await runPython("reflection_client.py", [
        "--port",
        String(svc.port),
        "--symbol",
        "shop.v1.Order",
      ]);
      assert.equal(found.message, "shop.v1.Order");
      assert.deepEqual([...(found.files as string[])].sort(), [
        "google/protobuf/timestamp.proto",
        "google/protobuf/wrappers.proto",
        "shop/v1/money.proto",
        "shop/v1/shop.proto",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
