/**
 * User middleware on a real process: the examples/auth bearer-token file
 * for unary and streaming calls, and middleware listed in the config.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { grpcClient, readAll, ROOT, runSvc, startSvc, unary } from "./_harness.ts";

const factory = grpcClient([`${ROOT}/proto/helloworld.proto`]);
const bearer = (token: string) => {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
};

Deno.test("examples/auth rejects missing and wrong tokens with UNAUTHENTICATED and passes a good one", async (t) => {
  await using svc = await startSvc({
    config: `${ROOT}/examples/auth/svc.yaml`,
    env: { AUTH_TOKENS: "good-1,good-2" },
  });
  const client = factory.makeClient("helloworld.Greeter", svc.port);
  try {
    await t.step("unary", async () => {
      await assert.rejects(unary(client, "sayHello", { name: "a" }), {
        code: grpc.status.UNAUTHENTICATED,
        details: 'missing "authorization: Bearer <token>" metadata',
      });
      await assert.rejects(unary(client, "sayHello", { name: "a" }, { metadata: bearer("bad") }), {
        code: grpc.status.UNAUTHENTICATED,
        details: "invalid bearer token",
      });
      const reply = await unary<{ message: string }>(client, "sayHello", { name: "Ada" }, {
        metadata: bearer("good-2"),
      });
      assert.match(reply.message, /Ada/);
    });

    await t.step("server streaming", async () => {
      await assert.rejects(readAll(client.lotsOfReplies({ name: "a" }, bearer("bad"))), {
        code: grpc.status.UNAUTHENTICATED,
      });
      assert.equal(
        (await readAll(client.lotsOfReplies({ name: "a" }, bearer("good-1")))).length,
        3,
      );
    });

    await t.step("bidi streaming", async () => {
      const denied = client.bidiHello(new grpc.Metadata());
      denied.end();
      await assert.rejects(readAll(denied), { code: grpc.status.UNAUTHENTICATED });
      const allowed = client.bidiHello(bearer("good-1"));
      allowed.write({ name: "x" });
      allowed.end();
      assert.equal((await readAll(allowed)).length, 1);
    });

    await t.step("health stays open for probes", async () => {
      const health = grpcClient(["/usr/share/grpc-proto/grpc/health/v1/health.proto"]).makeClient(
        "grpc.health.v1.Health",
        svc.port,
      );
      try {
        assert.deepEqual(await unary(health, "check", { service: "" }), { status: "SERVING" });
      } finally {
        health.close();
      }
    });
  } finally {
    client.close();
  }
});

Deno.test("middleware listed in the config runs after _middleware.ts, in order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svc-mw-" });
  try {
    const tag = (name: string) =>
      `import { defineMiddleware } from "svc";
export default defineMiddleware((next) => async function ${name}(call) {
  call.setTrailer("x-order", "${name}");
  await next(call);
});
`;
    await Deno.writeTextFile(join(dir, "first.ts"), tag("first"));
    await Deno.writeTextFile(join(dir, "second.ts"), tag("second"));
    await Deno.writeTextFile(
      join(dir, "svc.yaml"),
      `protos: { files: [${ROOT}/proto] }
handlers: ${ROOT}/handlers
middleware: [first.ts, second.ts]
admin: { enabled: false }
`,
    );
    await using svc = await startSvc({ config: join(dir, "svc.yaml") });
    const client = factory.makeClient("helloworld.Greeter", svc.port);
    try {
      const trailers = await new Promise<grpc.Metadata>((resolve, reject) => {
        const call = client.sayHello({ name: "x" }, (err: Error | null) => err && reject(err));
        call.on("status", (s: grpc.StatusObject) => resolve(s.metadata));
      });
      // grpc-js joins repeated trailer values with ", ".
      assert.deepEqual(trailers.get("x-order"), ["first, second"]);
    } finally {
      client.close();
    }
    await Deno.writeTextFile(join(dir, "second.ts"), "export default 42;\n");
    const bad = await runSvc(["check", join(dir, "svc.yaml")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /second\.ts: export default: is not middleware/);
    assert.match(bad.stderr, /hint: a middleware file looks like this/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
