/**
 * Protobuf bombs against `svc run` (issue 19): a 4 MiB request of 2 million
 * empty sub-messages decodes to about 1 GiB of objects. svc estimates what a
 * request will cost decoded before decoding it, and refuses one over
 * server.maxDecodedMessageBytes (64 MiB) with RESOURCE_EXHAUSTED naming the
 * field. Checked: one bomb, eight in parallel, health answering within 1 s
 * throughout, RSS staying low, a process with a 512 MiB V8 heap surviving,
 * and the service serving normally afterwards.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { grpcClient, ROOT, startSvc, type SvcProcess, unary } from "./_harness.ts";
import { rssMiB, sendRaw, watchHealth } from "./_load_watch.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);

const root = await protobuf.load(`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`);
const BatchRequest = root.lookupType("e2e.BatchRequest");
/** 2,000,000 empty BatchItems: 4 MB on the wire. */
const BOMB = BatchRequest.encode(
  BatchRequest.fromObject({ items: Array.from({ length: 2_000_000 }, () => ({})) }),
).finish();
/** A legitimate 1 MiB batch: 40,000 named items. */
const BATCH = BatchRequest.encode(BatchRequest.fromObject({
  items: Array.from({ length: 40_000 }, (_, i) => ({ name: `item-${i}-of-the-batch` })),
})).finish();

function send(port: number, bytes: Uint8Array) {
  return sendRaw(port, "/e2e.Test/Batch", bytes);
}

async function bombs(svc: SvcProcess, parallel: number) {
  const before = rssMiB(svc.pid);
  let peak = before;
  const sampler = setInterval(() => peak = Math.max(peak, rssMiB(svc.pid)), 50);
  const stopHealth = watchHealth(svc.port);
  try {
    const results = await Promise.all(Array.from({ length: parallel }, () => send(svc.port, BOMB)));
    return { results, grew: peak - before, health: await stopHealth() };
  } finally {
    clearInterval(sampler);
  }
}

const ENV = { SVC_SERVER_MAX_RECEIVE_MESSAGE_BYTES: String(8 * 2 ** 20) };

Deno.test("a 4 MiB protobuf bomb, alone and 8 at once, is refused before decoding; health answers throughout", async () => {
  await using svc = await startSvc({ config: CONFIG, env: ENV });
  const one = await bombs(svc, 1);
  assert.equal(one.results[0].code, grpc.status.RESOURCE_EXHAUSTED, JSON.stringify(one.results));
  assert.match(
    one.results[0].details,
    /^e2e\.BatchRequest would decode to about \d+ MiB in memory, over the 64 MiB allowed \(server\.maxDecodedMessageBytes\); items has 2,000,000 elements$/,
  );
  const eight = await bombs(svc, 8);
  assert.deepEqual(eight.results.map((r) => r.code), new Array(8).fill(8));
  for (const run of [one, eight]) {
    assert.equal(run.health.failed, 0, "every health Check answered");
    assert.ok(run.health.slowest < 1_000, `slowest health Check ${run.health.slowest} ms`);
  }
  // Eight 4 MB requests arrive and are held while checked: tens of MiB, not GiBs.
  assert.ok(eight.grew < 160, `RSS grew ${eight.grew.toFixed(0)} MiB under 8 bombs`);
  console.log(`RSS: +${one.grew.toFixed(0)} MiB (1 bomb), +${eight.grew.toFixed(0)} MiB (8 bombs)`);
  // A real batch of the same order of size is served, and the service goes on.
  assert.equal((await send(svc.port, BATCH)).code, 0);
  const client = factory.makeClient("e2e.Test", svc.port);
  try {
    assert.equal(
      (await unary<{ message: string }>(client, "echo", { message: "ok" })).message,
      "ok",
    );
  } finally {
    client.close();
  }
  assert.ok(
    svc.logs().some((l) => l.msg === "request over its decode budget" && l.field === "items"),
  );
});

Deno.test("a process with a 512 MiB V8 heap survives 8 bombs at once", async () => {
  await using svc = await startSvc({
    config: CONFIG,
    env: { ...ENV, DENO_V8_FLAGS: "--max-old-space-size=512" },
  });
  const eight = await bombs(svc, 8);
  assert.deepEqual(eight.results.map((r) => r.code), new Array(8).fill(8));
  assert.equal((await send(svc.port, BATCH)).code, 0, "still serving");
});
