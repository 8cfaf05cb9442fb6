/**
 * What grpcurl does, done by Go's own protobuf runtime: list services over
 * server reflection, fetch every service's descriptors and their
 * dependencies, build them with protodesc (which validates each descriptor
 * strictly), and call a method from JSON with no .proto file on the client.
 * Run against the demo and every example. The client is
 * tests/go/reflect_call/main.go, built by tests/_go.ts; without Go and
 * Debian's Go sources the test is skipped with one line saying why.
 */
import assert from "node:assert/strict";
import { buildGo, goMissing, runGo } from "./_go.ts";
import { startSvc } from "./_harness.ts";

const missing = await goMissing([
  "google.golang.org/grpc/reflection/grpc_reflection_v1alpha",
  "google.golang.org/protobuf/reflect/protodesc",
  "google.golang.org/protobuf/types/dynamicpb",
]);
if (missing) console.log(`go_reflection_test: skipped: ${missing}`);

const BUILTINS = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

const CASES = [
  {
    config: "config/svc.yaml",
    services: ["helloworld.Greeter"],
    call: "helloworld.Greeter/SayHello",
    data: { name: "Go" },
    reply: { message: "Hello, Go!" },
  },
  {
    config: "examples/routeguide/svc.yaml",
    services: ["routeguide.RouteGuide"],
    call: "routeguide.RouteGuide/GetFeature",
    data: { latitude: 1, longitude: 2 },
    reply: { location: { latitude: 1, longitude: 2 } },
  },
  {
    config: "examples/interop/svc.yaml",
    services: ["grpc.testing.TestService"],
    call: "grpc.testing.TestService/UnaryCall",
    data: { responseSize: 3, payload: { body: "AAAA" } },
    reply: { payload: { body: "AAAA" } },
  },
];

Deno.test({
  name: "a Go client describes every service over reflection and calls from JSON, like grpcurl",
  ignore: missing !== null,
  async fn(t) {
    const client = await buildGo("reflect_call");
    for (const c of CASES) {
      await t.step(c.config, async () => {
        await using svc = await startSvc({ config: c.config });
        const lines = await runGo(client, [
          "-addr",
          `127.0.0.1:${svc.port}`,
          "-call",
          c.call,
          "-data",
          JSON.stringify(c.data),
        ]);
        const listed = lines.filter((l) => l.startsWith("service ")).map((l) => l.slice(8));
        const described = lines.filter((l) => l.startsWith("described ")).map((l) =>
          l.split(" ")[1]
        );
        assert.deepEqual(listed.sort(), [...c.services, ...BUILTINS].sort());
        assert.deepEqual(described.sort(), listed);
        const reply = lines.find((l) => l.startsWith("reply "));
        assert.ok(reply, lines.join("\n"));
        assert.deepEqual(JSON.parse(reply.slice(6)), c.reply);
      });
    }
  },
});
