/**
 * The process memory budget (`server.memoryBudgetBytes`, issue 19) against
 * `svc run`:
 * - clients that set INITIAL_WINDOW_SIZE=0 and open 4 × 100 calls whose
 *   handlers answer 1 MiB each (400 MiB asked for; it used to be held):
 *   what is parked stays within the budget, the rest ends
 *   RESOURCE_EXHAUSTED, health answers within 1 s;
 * - requests under the per-message decode limit but many at once, each
 *   held by its handler: their estimated decoded size is taken from the
 *   budget, those that do not fit end RESOURCE_EXHAUSTED before decoding,
 *   and a process with a 512 MiB V8 heap (budget derived from it) lives.
 * The grpc-js fallback has no budget (docs/transport.md): skipped there.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import protobuf from "protobufjs";
import { grpcClient, ROOT, startSvc, TEST_TRANSPORT, unary } from "./_harness.ts";
import { runProbe } from "./_h2_probe.ts";
import { rssMiB, scrape, sendRaw, watchHealth, watchRss } from "./_load_watch.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);
const root = await protobuf.load(`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`);
const MiB = 2 ** 20;
const HELD = ["svc_memory_held_bytes", "svc_memory_held_peak_bytes", "svc_memory_budget_bytes"];
const NATIVE_ONLY = TEST_TRANSPORT !== "native";
if (NATIVE_ONLY) {
  console.warn("memory_budget_test.ts skipped: the grpc-js fallback has no memory budget");
}

function hex(type: string, value: Record<string, unknown>): string {
  const t = root.lookupType(type);
  return Buffer.from(t.encode(t.fromObject(value)).finish()).toString("hex");
}

async function echoOk(port: number): Promise<void> {
  const client = factory.makeClient("e2e.Test", port);
  try {
    const reply = await unary<{ message: string }>(client, "echo", { message: "still here" });
    assert.equal(reply.message, "still here");
  } finally {
    client.close();
  }
}

Deno.test({
  name: "responses parked behind closed windows stay within the memory budget",
  ignore: NATIVE_ONLY,
  async fn() {
    const budget = 128 * MiB;
    // Issue 19 used 4 × 300; 4 × 100 (3× the budget) keeps this test's burst of handlers
    // (each encoding 1 MiB) short enough for the 1 s health bound while the suite runs.
    const CALLS = 100;
    await using svc = await startSvc({
      config: CONFIG,
      env: {
        SVC_ADMIN_ENABLED: "true",
        SVC_SERVER_MAX_SEND_MESSAGE_BYTES: String(2 * MiB),
        SVC_SERVER_MEMORY_BUDGET_BYTES: String(budget),
      },
    });
    const before = rssMiB(svc.pid);
    const stopRss = watchRss(svc.pid);
    const stopHealth = watchHealth(svc.port);
    let during: Record<string, number> = {};
    let settled = 0;
    const result = await runProbe<{ codes: Record<string, number>; open: number }>(
      "zero_window.py",
      svc.port,
      ["hold", "4", String(CALLS), hex("e2e.BigRequest", { size: MiB }), "6"],
      {
        timeoutMs: 30_000,
        onReady: async () => {
          await new Promise((resolve) => setTimeout(resolve, 4_000));
          during = await scrape(svc.adminPort!, HELD);
          settled = rssMiB(svc.pid);
        },
      },
    );
    const peak = stopRss(); // reported only; see below
    const health = await stopHealth();
    console.log(
      `zero-window: ${JSON.stringify(result)}, RSS +${(peak - before).toFixed(0)} MiB at peak, ` +
        `+${(settled - before).toFixed(0)} MiB after 4 s, ` +
        `held ${(during.svc_memory_held_bytes / MiB).toFixed(0)} MiB, ` +
        `slowest health ${health.slowest.toFixed(0)} ms`,
    );
    assert.equal(during.svc_memory_budget_bytes, budget);
    assert.ok(during.svc_memory_held_peak_bytes <= budget, JSON.stringify(during));
    // Every call the budget could not park ended RESOURCE_EXHAUSTED (8); the rest wait for window.
    assert.ok((result.codes["8"] ?? 0) >= 4 * CALLS - budget / MiB, JSON.stringify(result));
    assert.equal(Object.keys(result.codes).filter((c) => c !== "8").length, 0);
    assert.equal(health.failed, 0, "every health Check answered");
    assert.ok(health.slowest < 1_000, `slowest health Check ${health.slowest} ms`);
    // RSS is reported, not asserted: the refused responses (encoded, then not sent) are
    // garbage that V8 collects when it next runs a full GC, which can be seconds away
    // (seen: +228 to +843 MiB after such a burst). What svc holds is the metric above.
    // The clients are gone: what they held is given back, and the service goes on.
    await echoOk(svc.port);
    const after = await scrape(svc.adminPort!, HELD);
    assert.ok(after.svc_memory_held_bytes < MiB, JSON.stringify(after));
  },
});

/** `parallel` Batch calls of `items` empty items each, held `holdMs` by the handler. */
function batches(port: number, parallel: number, items: number, holdMs: number) {
  const t = root.lookupType("e2e.BatchRequest");
  const bytes = t.encode(t.fromObject({ items: Array.from({ length: items }, () => ({})), holdMs }))
    .finish();
  return Promise.all(
    Array.from({ length: parallel }, () => sendRaw(port, "/e2e.Test/Batch", bytes, 30_000)),
  );
}

Deno.test({
  name: "many large requests at once: what does not fit the budget is refused before decoding",
  ignore: NATIVE_ONLY,
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: {
        SVC_ADMIN_ENABLED: "true",
        SVC_SERVER_MAX_RECEIVE_MESSAGE_BYTES: String(4 * MiB),
        // No budget configured: half of V8's heap limit.
        DENO_V8_FLAGS: "--max-old-space-size=512",
      },
    });
    const { svc_memory_budget_bytes: budget } = await scrape(svc.adminPort!, HELD);
    assert.ok(budget > 200 * MiB && budget < 400 * MiB, `budget ${budget}`);
    // Each admitted call decodes ~50 MiB in one synchronous step: with the
    // suite running in parallel on 2 cores, a health Check can wait behind
    // two of them for over a second. Bounded, not hung, is what this shows.
    const stopHealth = watchHealth(svc.port, 3_000);
    // 100,000 empty items: 200 KB on the wire, about 50 MiB decoded (under the
    // 64 MiB per-message limit). 24 held for 3 s: about 1.2 GiB if all were let in.
    const results = await batches(svc.port, 24, 100_000, 3_000);
    const health = await stopHealth();
    const refused = results.filter((r) => r.code === grpc.status.RESOURCE_EXHAUSTED);
    const served = results.filter((r) => r.code === 0);
    console.log(`budget ${budget / MiB} MiB: ${served.length} served, ${refused.length} refused`);
    assert.equal(served.length + refused.length, 24, JSON.stringify(results));
    assert.ok(served.length >= 2 && refused.length >= 8, JSON.stringify(results));
    assert.match(refused[0].details, /memory budget has no room to decode this e2e\.BatchRequest/);
    const after = await scrape(svc.adminPort!, HELD);
    assert.ok(after.svc_memory_held_peak_bytes <= budget, JSON.stringify(after));
    assert.ok(after.svc_memory_held_bytes < MiB, JSON.stringify(after));
    assert.equal(health.failed, 0, "every health Check answered");
    assert.ok(health.slowest < 3_000, `slowest health Check ${health.slowest} ms`);
    await echoOk(svc.port);
  },
});

Deno.test({
  name: "with server.memoryLimitBytes set, the derived budget is half of it, not of V8's heap",
  ignore: NATIVE_ONLY,
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: { SVC_ADMIN_ENABLED: "true", SVC_SERVER_MEMORY_LIMIT_BYTES: String(128 * MiB) },
    });
    const { svc_memory_budget_bytes: budget } = await scrape(svc.adminPort!, HELD);
    assert.equal(budget, 64 * MiB);
    await echoOk(svc.port);
  },
});
