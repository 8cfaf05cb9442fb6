/**
 * A client that stops reading a server stream must not make the server
 * buffer the whole stream: the handler waits at `yield` instead. Deno
 * 2.8.3's node:http2 has no write backpressure of its own (see
 * runtime/transport/grpc_js/backpressure.ts); this is its regression test.
 */
import assert from "node:assert/strict";
import { grpcClient, ROOT, startSvc } from "./_harness.ts";
import { PYTHON, pythonGrpcMissing } from "./_python.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const missing = await pythonGrpcMissing();

function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

// e2e.CountRequest { count: 300000, size: 100 } as protobuf bytes: without
// backpressure the handler finishes sending all of it within a second.
const COUNT_300K_SIZE_100 = "08e0a7121064";

Deno.test({
  name: "a server stream to a client that never reads waits instead of buffering",
  ignore: missing !== null,
  async fn() {
    await using svc = await startSvc({ config: CONFIG });
    const before = rssKiB(svc.pid);
    const client = new Deno.Command(PYTHON, {
      args: [
        `${ROOT}/tests/python/stalled_reader.py`,
        String(svc.port),
        "/e2e.Test/Count",
        COUNT_300K_SIZE_100,
        "4",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    await new Promise((r) => setTimeout(r, 3000));
    const grown = rssKiB(svc.pid) - before;
    const finished = svc.logs().some((l) => l.msg === "call" && l.method === "/e2e.Test/Count");
    assert.equal(finished, false, "the handler is still waiting to send");
    assert.ok(grown < 40 * 1024, `RSS grew ${grown} KiB`);
    await client.output();
    // The client went away; the stream ends and the server keeps serving.
    await svc.waitForLog((l) => l.msg === "call" && l.method === "/e2e.Test/Count");
  },
});

Deno.test("a client streaming faster than the handler reads is held back by flow control", async () => {
  await using svc = await startSvc({ config: CONFIG });
  const client = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]).makeClient(
    "e2e.Test",
    svc.port,
  );
  try {
    const before = rssKiB(svc.pid);
    // Drip reads one message every 20 ms; send 48 MiB in 3000 messages at once.
    const call = client.drip({ deadline: Date.now() + 20_000 }, () => {});
    const chunk = { data: new Uint8Array(16 * 1024) };
    for (let i = 0; i < 3000; i++) call.write(chunk);
    await new Promise((r) => setTimeout(r, 2000));
    const grown = rssKiB(svc.pid) - before;
    assert.ok(grown < 24 * 1024, `server RSS grew ${grown} KiB while the client queued 48 MiB`);
    call.cancel();
  } finally {
    client.close();
  }
});
