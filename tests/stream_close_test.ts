/**
 * Regression test for the node:http2 abort seen on Deno 2.9.4–2.9.6
 * (denoland/deno#36788): the server process died (SIGABRT) when a client
 * closed its channel right after a server stream of ~300–1000 messages.
 * svc pins Deno 2.8.3, which survives; this keeps it that way.
 */
import assert from "node:assert/strict";
import { grpcClient, readAll, ROOT, startSvc, unary } from "./_harness.ts";

const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);

Deno.test("closing clients right after 1000-message streams never takes the server down", async () => {
  await using svc = await startSvc({
    config: `${ROOT}/tests/fixtures/e2e/svc.yaml`,
    env: { SVC_LOGGING_ACCESS_LOG: "false" },
  });
  for (let round = 0; round < 20; round++) {
    const client = factory.makeClient("e2e.Test", svc.port);
    const count = 300 + round * 35;
    const messages = await readAll(client.count({ count, size: 8 }));
    assert.equal(messages.length, count);
    client.close();
  }
  const client = factory.makeClient("e2e.Test", svc.port);
  try {
    assert.deepEqual(
      await unary(client, "echo", { message: "alive" }).then((r) => r.message),
      "alive",
    );
  } finally {
    client.close();
  }
  svc.kill("SIGTERM");
  assert.deepEqual(await svc.exited, { code: 0, signal: null });
});
