/**
 * A listener that runs out of file descriptors comes back (issue 19). On
 * Deno 2.8.3 a node:net listener whose accept fails with EMFILE closes
 * itself silently, so svc probes its listeners and binds them again. Here
 * a running `svc run` gets a limit of 128 descriptors (prlimit), 300
 * connections exhaust it, and once they close the gRPC port and the admin
 * port serve again and /readyz is ready.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { grpcClient, ROOT, startSvc, type SvcProcess, TEST_TRANSPORT, unary } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);
const prlimit = await new Deno.Command("prlimit", { args: ["--version"], stdout: "null" })
  .output().then((r) => r.success, () => false);

/**
 * Limits the running svc to `limit` descriptors (prlimit), exhausts them with
 * 300 connections until svc says so, then closes them all.
 */
async function starveThenFree(
  svc: SvcProcess,
  limit: number,
): Promise<void> {
  const limited = await new Deno.Command("prlimit", {
    args: ["--pid", String(svc.pid), `--nofile=${limit}:${limit}`],
  }).output();
  assert.ok(limited.success, new TextDecoder().decode(limited.stderr));
  const sockets: Socket[] = [];
  for (let i = 0; i < 300; i++) {
    const socket = connect(svc.port, "127.0.0.1");
    socket.on("error", () => {});
    sockets.push(socket);
  }
  await svc.waitForLog((l) => l.msg === "gRPC listener out of file descriptors", 10_000);
  for (const socket of sockets) socket.destroy();
}

Deno.test({
  name: "out of file descriptors, then freed: the gRPC and admin listeners accept again",
  // The grpc-js fallback's listener is node:http2's and has no such watch (docs/transport.md).
  ignore: !prlimit || TEST_TRANSPORT !== "native",
  async fn() {
    await using svc = await startSvc({ config: CONFIG, env: { SVC_ADMIN_ENABLED: "true" } });
    await starveThenFree(svc, 128);
    await svc.waitForLog((l) => l.msg === "gRPC listener accepting again", 10_000);
    const client = factory.makeClient("e2e.Test", svc.port);
    try {
      const reply = await unary<{ message: string }>(client, "echo", { message: "back" }, {
        timeoutMs: 5_000,
      });
      assert.equal(reply.message, "back");
    } finally {
      client.close();
    }
    // The admin port was starved too; it answers again, and says ready.
    let ready = "";
    for (let i = 0; i < 50 && ready !== "ready\n"; i++) {
      ready = await fetch(`http://127.0.0.1:${svc.adminPort}/readyz`, {
        signal: AbortSignal.timeout(1_000),
      }).then((r) => r.text(), () => "");
      if (ready !== "ready\n") await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(ready, "ready\n");
  },
});

Deno.test({
  name:
    "with two workers, out of file descriptors, then freed: every worker's listener serves again",
  ignore: !prlimit || TEST_TRANSPORT !== "native",
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: { SVC_ADMIN_ENABLED: "true", SVC_SERVER_WORKERS: "2" },
    });
    await starveThenFree(svc, 160);
    // Deno's dead listeners stay in LISTEN and a probe may reach the other worker's, so
    // each worker finds its own by its queue (util/listen_backlog.ts) and binds it again.
    // "rebinding" is said before the new listener is bound: calls made in between may meet the
    // closing one (a full suite run saw ECONNRESET), so wait until each says it accepts again.
    for (const worker of [0, 1]) {
      await svc.waitForLog(
        (l) => l.msg === "gRPC listener rebinding" && l.worker === worker,
        20_000,
      );
    }
    const lastState = (worker: number) =>
      svc.logs().findLast((l) => String(l.msg).startsWith("gRPC listener") && l.worker === worker)
        ?.msg;
    for (
      let i = 0;
      i < 200 && [0, 1].some((w) => lastState(w) !== "gRPC listener accepting again");
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual([0, 1].map(lastState), Array(2).fill("gRPC listener accepting again"));
    // Every call made on a fresh connection is served: none lands on a dead listener.
    for (let i = 0; i < 10; i++) {
      const client = factory.makeClient("e2e.Test", svc.port);
      try {
        const reply = await unary<{ message: string }>(client, "echo", { message: `back ${i}` }, {
          timeoutMs: 5_000,
        });
        assert.equal(reply.message, `back ${i}`);
      } finally {
        client.close();
      }
    }
  },
});
