/**
 * A gzip flood against `svc run` (issue 19): 4 KiB requests that inflate to
 * 4 MiB each, sent as fast as the server answers on 4 connections with 16
 * calls open on each. Inflation used to run on the event loop as the bytes
 * arrived, at about 5 ms a message, and health checks failed. Now it runs
 * when the call is dispatched, paced to at most half of the loop's time
 * (transport/native/compression.ts, InflateGate), with inflated bytes
 * counted in the memory budget. Checked: health answers within 1 s
 * throughout, the flood is still served, the budget is given back, and the
 * service serves normally afterwards.
 * The grpc-js fallback has neither (docs/transport.md): skipped there.
 */
import assert from "node:assert/strict";
import { grpcClient, ROOT, startSvc, TEST_TRANSPORT, unary } from "./_harness.ts";
import { runProbe } from "./_h2_probe.ts";
import { rssMiB, scrape, watchHealth, watchRss } from "./_load_watch.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);
const MiB = 2 ** 20;
if (TEST_TRANSPORT !== "native") {
  console.warn("decompression_test.ts skipped: the grpc-js fallback inflates without pacing");
}

Deno.test({
  name: "a gzip flood (4 KiB that inflate to 4 MiB) cannot take the event loop",
  ignore: TEST_TRANSPORT !== "native",
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: { SVC_ADMIN_ENABLED: "true", SVC_SERVER_MAX_RECEIVE_MESSAGE_BYTES: String(4 * MiB) },
    });
    const before = rssMiB(svc.pid);
    const stopRss = watchRss(svc.pid);
    const stopHealth = watchHealth(svc.port);
    const flood = await runProbe<{ codes: Record<string, number>; compressed: number }>(
      "gzip_flood.py",
      svc.port,
      // Just under the default 4 MiB receive limit, once inflated.
      ["flood", "4", "16", String(4 * MiB - 16), "6"],
      { timeoutMs: 40_000 },
    );
    const health = await stopHealth();
    const peak = stopRss();
    const served = flood.codes["0"] ?? 0;
    console.log(
      `gzip flood (${flood.compressed} B → 4 MiB): ${JSON.stringify(flood.codes)} in 6 s, ` +
        `RSS +${(peak - before).toFixed(0)} MiB at peak, slowest health ${
          health.slowest.toFixed(0)
        } ms, ${health.failed} failed`,
    );
    assert.ok(flood.compressed < 8 * 1024, `compressed to ${flood.compressed} bytes`);
    assert.ok(served > 50, `only ${served} calls served`);
    // Unpaced, this flood grew RSS by 563 MiB (the same test on the code before).
    assert.ok(peak - before < 350, `RSS grew ${(peak - before).toFixed(0)} MiB`);
    assert.equal(health.failed, 0, "every health Check answered");
    assert.ok(health.slowest < 1_000, `slowest health Check ${health.slowest} ms`);
    // The flood is over: every inflated byte is given back, and the service goes on.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const held = await scrape(svc.adminPort!, ["svc_memory_held_bytes"]);
    assert.ok(held.svc_memory_held_bytes < MiB, JSON.stringify(held));
    const client = factory.makeClient("e2e.Test", svc.port);
    try {
      const reply = await unary<{ message: string }>(client, "echo", { message: "after" });
      assert.equal(reply.message, "after");
    } finally {
      client.close();
    }
  },
});
