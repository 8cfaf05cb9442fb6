/**
 * The demo and the examples, served by svc and called by a real grpc-js client.
 * @module
 */
import assert from "node:assert/strict";
import type * as grpc from "@grpc/grpc-js";
import { grpcClient, type GrpcTestClient, readAll, startSvc, unary } from "./_harness.ts";

const NO_ADMIN = { SVC_ADMIN_ENABLED: "false" };

/** Calls a client-streaming method with `requests`; resolves with the response. */
function clientStream<T>(client: GrpcTestClient, method: string, requests: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const call: grpc.ClientWritableStream<unknown> = client[method](
      { deadline: Date.now() + 10_000 },
      (err: grpc.ServiceError | null, response: T) => err ? reject(err) : resolve(response),
    );
    for (const r of requests) call.write(r);
    call.end();
  });
}

/** Sends `requests` on a bidi call, then half-closes; resolves with every response. */
function bidi<T>(client: GrpcTestClient, method: string, requests: unknown[]): Promise<T[]> {
  const call: grpc.ClientDuplexStream<unknown, T> = client[method]({
    deadline: Date.now() + 10_000,
  });
  for (const r of requests) call.write(r);
  call.end();
  return readAll<T>(call);
}

for (
  const [label, config, proto] of [
    ["config/svc.yaml (the demo)", "config/svc.yaml", "proto/helloworld.proto"],
    [
      "examples/greeter (the demo, own config)",
      "examples/greeter/svc.yaml",
      "proto/helloworld.proto",
    ],
  ]
) {
  Deno.test(`${label} serves all four Greeter call kinds`, async (t) => {
    await using svc = await startSvc({ config, env: NO_ADMIN });
    const client = grpcClient([proto]).makeClient("helloworld.Greeter", svc.port);
    try {
      await t.step("SayHello", async () => {
        assert.deepEqual(await unary(client, "sayHello", { name: "Ada" }), {
          message: "Hello, Ada!",
        });
        assert.deepEqual(await unary(client, "sayHello", {}), { message: "Hello, world!" });
      });
      await t.step("SayHello refuses a too-long name", async () => {
        await assert.rejects(unary(client, "sayHello", { name: "x".repeat(201) }), {
          code: 3, // INVALID_ARGUMENT
        });
      });
      await t.step("LotsOfReplies streams three replies", async () => {
        const replies = await readAll(
          client.lotsOfReplies({ name: "Ada" }, { deadline: Date.now() + 10_000 }),
        );
        assert.deepEqual(replies.map((r) => r.message), [
          "Hello, Ada! (1 of 3)",
          "Hello, Ada! (2 of 3)",
          "Hello, Ada! (3 of 3)",
        ]);
      });
      await t.step("LotsOfGreetings greets everyone sent", async () => {
        const reply = await clientStream(client, "lotsOfGreetings", [
          { name: "Ada" },
          { name: "Grace" },
        ]);
        assert.deepEqual(reply, { message: "Hello, Ada, Grace!" });
      });
      await t.step("BidiHello answers each request", async () => {
        const replies = await bidi<{ message: string }>(client, "bidiHello", [
          { name: "Ada" },
          { name: "Grace" },
        ]);
        assert.deepEqual(replies.map((r) => r.message), ["Hello, Ada!", "Hello, Grace!"]);
      });
    } finally {
      client.close();
    }
    assert.equal((await svc.stop()).code, 0, svc.stderr());
  });
}

Deno.test("examples/routeguide serves the RouteGuide methods", async (t) => {
  await using svc = await startSvc({ config: "examples/routeguide/svc.yaml", env: NO_ADMIN });
  const client = grpcClient(["examples/routeguide/proto/route_guide.proto"])
    .makeClient("routeguide.RouteGuide", svc.port);
  const gate = { latitude: 525162750, longitude: 133777040 };
  const tower = { latitude: 525208150, longitude: 134094190 };
  try {
    await t.step("GetFeature names a known point", async () => {
      const feature = await unary(client, "getFeature", gate);
      assert.deepEqual(feature, { name: "Brandenburg Gate, Pariser Platz", location: gate });
    });
    await t.step("GetFeature answers an unknown point with an unnamed feature", async () => {
      const point = { latitude: 1, longitude: 2 };
      assert.deepEqual(await unary(client, "getFeature", point), { name: "", location: point });
    });
    await t.step("ListFeatures streams the named features inside the rectangle", async () => {
      const rect = {
        lo: { latitude: 525300000, longitude: 134200000 }, // corners in either order
        hi: { latitude: 525000000, longitude: 133500000 },
      };
      const features = await readAll<{ name: string }>(
        client.listFeatures(rect, { deadline: Date.now() + 10_000 }),
      );
      const names = features.map((f) => f.name);
      assert.ok(names.includes("Brandenburg Gate, Pariser Platz"), names.join("; "));
      assert.ok(names.includes("TV Tower, Panoramastraße 1A"), names.join("; "));
      assert.ok(!names.includes(""), "unnamed features are not listed");
      assert.ok(!names.includes("Olympic Stadium, Olympischer Platz 3"), "outside the rectangle");
    });
    await t.step("RecordRoute sums points, features and distance", async () => {
      const summary = await clientStream<Record<string, number>>(client, "recordRoute", [
        gate,
        tower,
        { latitude: 1, longitude: 1 },
      ]);
      assert.equal(summary.pointCount, 3);
      assert.equal(summary.featureCount, 2);
      assert.ok(summary.distance > 5_000_000, `distance ${summary.distance}`);
      assert.equal(summary.elapsedTime, 0);
    });
    await t.step("RouteChat sends back earlier notes at the same location", async () => {
      const here = { latitude: 7, longitude: 7 };
      const notes = await bidi<{ message: string }>(client, "routeChat", [
        { location: here, message: "first" },
        { location: { latitude: 8, longitude: 8 }, message: "elsewhere" },
        { location: here, message: "second" },
      ]);
      assert.deepEqual(notes.map((n) => n.message), ["first"]);
    });
  } finally {
    client.close();
  }
  assert.equal((await svc.stop()).code, 0, svc.stderr());
});
