/**
 * Client middleware on real processes: the examples/auth edge forwarding the
 * caller's bearer token to the greeter, a recorder seeing all four call
 * kinds against examples/discovery's backend, `svc dev` reloading client
 * middleware, and `svc check`/`svc run` refusing a bad client middleware file.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDev, until } from "./_dev.ts";
import { grpcClient, ROOT, runSvc, startSvc, type SvcProcess, unary } from "./_harness.ts";

const TOKENS = { AUTH_TOKENS: "good-1,good-2" };
const edgeClients = grpcClient([`${ROOT}/examples/auth/proto/edge.proto`], [`${ROOT}/proto`]);
const greeterClients = grpcClient([`${ROOT}/proto/helloworld.proto`]);

function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return metadata;
}

/** The greeter's access-log lines for SayHello, as `code` strings (`OK`, `Unauthenticated`). */
function greeterCalls(greeter: SvcProcess): string[] {
  return greeter.logs()
    .filter((l) => l.msg === "call" && l.method === "/helloworld.Greeter/SayHello")
    .map((l) => String(l.code));
}

/** Waits for the greeter's first SayHello access-log line with `code`. */
function waitForGreeterCall(greeter: SvcProcess, code: string) {
  return greeter.waitForLog((l) =>
    l.msg === "call" && l.method === "/helloworld.Greeter/SayHello" && l.code === code
  );
}

/** A handlers directory with the edge's handler and token check, and `clientMiddleware` if given. */
async function edgeHandlers(clientMiddleware?: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "svc-edge-" });
  const edge = `${ROOT}/examples/auth/edge`;
  await Deno.writeTextFile(join(dir, "edge.ts"), `export { default } from "${edge}/edge.ts";\n`);
  await Deno.writeTextFile(
    join(dir, "_middleware.ts"),
    `export { default } from "${edge}/_middleware.ts";\n`,
  );
  if (clientMiddleware !== undefined) {
    await Deno.writeTextFile(join(dir, "_client_middleware.ts"), clientMiddleware);
  }
  return dir;
}

Deno.test("examples/auth edge forwards the caller's token to the greeter through _client_middleware.ts", async (t) => {
  await using greeter = await startSvc({ config: "examples/auth/svc.yaml", env: TOKENS });
  const greeterAddress = { GREETER_ADDRESS: `127.0.0.1:${greeter.port}` };
  await using edge = await startSvc({
    config: "examples/auth/edge.yaml",
    env: { ...TOKENS, ...greeterAddress },
  });
  const client = edgeClients.makeClient("edge.Edge", edge.port);
  try {
    await t.step("no token: UNAUTHENTICATED from the edge; the greeter is not called", async () => {
      await assert.rejects(unary(client, "sayHello", { name: "Ada" }), {
        code: grpc.status.UNAUTHENTICATED,
        details: 'missing "authorization: Bearer <token>" metadata',
      });
      await assert.rejects(
        unary(client, "sayHello", { name: "Ada" }, { metadata: bearer("bad") }),
        {
          code: grpc.status.UNAUTHENTICATED,
          details: "invalid bearer token",
        },
      );
    });

    await t.step("a valid token: OK with the greeter's reply", async () => {
      const reply = await unary(client, "sayHello", { name: "Ada" }, {
        metadata: bearer("good-2"),
      });
      assert.deepEqual(reply, { message: "Hello, Ada!" });
      await waitForGreeterCall(greeter, "OK");
      // The refused calls above never reached the greeter (its log is in call order).
      assert.deepEqual(greeterCalls(greeter), ["OK"]);
    });
  } finally {
    client.close();
  }

  await t.step("without the client middleware the greeter refuses the edge's call", async () => {
    const dir = await edgeHandlers();
    try {
      await using bare = await startSvc({
        config: "examples/auth/edge.yaml",
        env: { ...TOKENS, ...greeterAddress, SVC_HANDLERS: dir },
      });
      const bareClient = edgeClients.makeClient("edge.Edge", bare.port);
      try {
        // The edge let the call in; the greeter saw no token and said so.
        await assert.rejects(
          unary(bareClient, "sayHello", { name: "Ada" }, { metadata: bearer("good-1") }),
          { code: grpc.status.UNAUTHENTICATED },
        );
        await waitForGreeterCall(greeter, "Unauthenticated");
      } finally {
        bareClient.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("client middleware sees all four call kinds with their method and message counts", async () => {
  await using backend = await startSvc({
    config: "examples/discovery/backend.yaml",
    env: { SVC_REGISTRY_TYPE: "none", SVC_ADMIN_ENABLED: "false" },
  });
  await using caller = await startSvc({
    config: "tests/fixtures/client_middleware/caller.yaml",
    env: { BACKEND_ADDR: `127.0.0.1:${backend.port}` },
  });
  const client = greeterClients.makeClient("helloworld.Greeter", caller.port);
  try {
    const reply = await unary<{ message: string }>(client, "sayHello", { name: "x" });
    const { replies, seen, order } = JSON.parse(reply.message);
    assert.deepEqual(replies, ["unary", "server 1", "server 2", "server 3", "a b", "x", "y"]);
    assert.deepEqual(
      seen.map((s: Record<string, unknown>) => [s.kind, s.method, s.sent, s.received, s.outcome]),
      [
        ["unary", "/demo.Backend/Echo", 1, 1, "OK"],
        ["server_stream", "/demo.Backend/Count", 1, 3, "OK"],
        ["client_stream", "/demo.Backend/Join", 2, 1, "OK"],
        ["bidi_stream", "/demo.Backend/Chat", 2, 2, "OK"],
      ],
      reply.message,
    );
    for (const call of seen) {
      assert.equal(call.service, "demo.Backend");
      assert.equal(call.method, `/demo.Backend/${call.methodName}`);
      assert.deepEqual(call.before, { sent: 0, received: 0, attempts: 0 }, call.method);
      assert.equal(call.attempts, 1, call.method);
      assert.equal(call.peer, `127.0.0.1:${backend.port}`, call.method);
      assert.ok(call.hasDeadline, `${call.method} inherits the caller's deadline`);
      assert.ok(call.hasParent, `${call.method} has the handler's ctx as parent`);
    }
    // _client_middleware.ts first (outermost), then the config's clientMiddleware files.
    assert.deepEqual(order, Array(4).fill(["conventional", "listed"]).flat());
  } finally {
    client.close();
  }
});

Deno.test("svc dev reloads an edited _client_middleware.ts and the clients use the new one", async () => {
  await using greeter = await startSvc({ config: "examples/auth/svc.yaml", env: TOKENS });
  const dir = await edgeHandlers(
    `import { defineClientMiddleware } from "svc";\nexport default defineClientMiddleware();\n`,
  );
  try {
    // main.ts itself, not a manifest: a reload reads the files on disk.
    await using edge = await startDev(dir, {
      args: ["dev", "examples/auth/edge.yaml"],
      env: {
        ...TOKENS,
        GREETER_ADDRESS: `127.0.0.1:${greeter.port}`,
        SVC_HANDLERS: dir,
        SVC_SERVER_PORT: "0",
        SVC_ADMIN_PORT: "0",
      },
    });
    const client = edgeClients.makeClient("edge.Edge", edge.port);
    try {
      const call = () => unary(client, "sayHello", { name: "Ada" }, { metadata: bearer("good-1") });
      await assert.rejects(call(), { code: grpc.status.UNAUTHENTICATED }, "no forwarding yet");
      await Deno.writeTextFile(
        join(dir, "_client_middleware.ts"),
        `export { default } from "${ROOT}/examples/auth/edge/_client_middleware.ts";\n`,
      );
      const reloaded = await until(
        () => edge.logs().find((l) => l.msg === "reloaded"),
        "the reload line",
      );
      assert.match(String(reloaded.changed), /_client_middleware\.ts/);
      assert.deepEqual(await call(), { message: "Hello, Ada!" });
    } finally {
      client.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("svc check and svc run refuse client middleware of the wrong kind, one line per file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svc-client-mw-" });
  try {
    await Deno.mkdir(join(dir, "handlers"));
    await Deno.writeTextFile(
      join(dir, "handlers", "greeter.ts"),
      `export { default } from "${ROOT}/handlers/greeter.ts";\n`,
    );
    await Deno.writeTextFile(
      join(dir, "handlers", "_client_middleware.ts"),
      `import { defineMiddleware } from "svc";\nexport default defineMiddleware((next) => next);\n`,
    );
    await Deno.writeTextFile(
      join(dir, "handlers", "_middleware.ts"),
      `import { defineClientMiddleware } from "svc";\nexport default defineClientMiddleware((next) => next);\n`,
    );
    await Deno.writeTextFile(join(dir, "outgoing.ts"), "export default 42;\n");
    await Deno.writeTextFile(
      join(dir, "svc.yaml"),
      `protos: { files: [${ROOT}/proto] }
handlers: handlers
clientMiddleware: [outgoing.ts]
admin: { enabled: false }
`,
    );
    for (const command of ["check", "run"]) {
      const result = await runSvc([command, join(dir, "svc.yaml")], {
        env: { SVC_SERVER_PORT: "0" },
      });
      assert.equal(result.code, 2, `svc ${command}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /"msg":"serving"/);
      const lines = result.stderr.split("\n");
      const about = (file: string) => lines.filter((l) => l.includes(`${file}: export default:`));
      assert.equal(about("handlers/_middleware.ts").length, 1, result.stderr);
      assert.match(
        about("handlers/_middleware.ts")[0],
        /is client middleware \(defineClientMiddleware\)/,
      );
      assert.equal(about("handlers/_client_middleware.ts").length, 1, result.stderr);
      assert.match(
        about("handlers/_client_middleware.ts")[0],
        /is server middleware \(defineMiddleware\)/,
      );
      assert.match(
        result.stderr,
        /outgoing\.ts: export default: is not client middleware \(item 0 is number\)/,
      );
      assert.match(result.stderr, /hint: a middleware file looks like this/);
      assert.match(result.stderr, /a client middleware file looks like this/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
