/**
 * Graceful shutdown of a real `svc run` process: nothing in flight is lost,
 * new calls are refused after the drain delay, and the process always exits
 * within drainDelay + gracePeriod plus the stated slack (app/shutdown.ts).
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { grpcClient, ROOT, startSvc, TEST_TRANSPORT, unary } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("SIGTERM lets 50 in-flight calls finish, then refuses new ones, and exits 0", async () => {
  await using svc = await startSvc({
    config: CONFIG,
    env: { SVC_SHUTDOWN_DRAIN_DELAY: "500ms", SVC_SHUTDOWN_GRACE_PERIOD: "5s" },
  });
  const client = factory.makeClient("e2e.Test", svc.port);
  try {
    const inFlight = Array.from(
      { length: 50 },
      (_, i) => unary<{ message: string }>(client, "sleep", { ms: 1500, tag: `c${i}` }),
    );
    await sleep(200);
    svc.kill("SIGTERM");
    await svc.waitForLog((l) => l.msg === "shutdown: health NOT_SERVING");
    // During the drain delay the server still takes calls.
    assert.equal(
      (await unary<{ message: string }>(client, "echo", { message: "late" })).message,
      "late",
    );
    await svc.waitForLog((l) => l.msg === "shutdown: stopped accepting calls");
    // After it, a new connection is refused.
    const fresh = factory.makeClient("e2e.Test", svc.port);
    try {
      await assert.rejects(
        unary(fresh, "echo", {}, { timeoutMs: 1000 }),
        (e: grpc.ServiceError) =>
          e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED,
      );
    } finally {
      fresh.close();
    }
    const replies = await Promise.all(inFlight);
    assert.equal(replies.length, 50);
    assert.ok(replies.every((r) => r.message === "slept 1500"));
    assert.deepEqual(await svc.exited, { code: 0, signal: null });
  } finally {
    client.close();
  }
});

Deno.test("a handler that never returns and an open stream cannot hold shutdown past its bound", async () => {
  const drainDelay = 300, gracePeriod = 1000;
  await using svc = await startSvc({
    config: CONFIG,
    env: {
      SVC_SHUTDOWN_DRAIN_DELAY: `${drainDelay}ms`,
      SVC_SHUTDOWN_GRACE_PERIOD: `${gracePeriod}ms`,
    },
  });
  const client = factory.makeClient("e2e.Test", svc.port);
  try {
    const stuck = unary(client, "sleep", { ms: 600_000, tag: "stuck" }, { timeoutMs: 60_000 })
      .catch((e: grpc.ServiceError) => e);
    const chat = client.chat();
    chat.on("error", () => {});
    chat.write({ message: "open" });
    await sleep(200);
    const started = performance.now();
    svc.kill("SIGTERM");
    const exit = await svc.exited;
    const took = performance.now() - started;
    assert.equal(exit.code, 0);
    assert.ok(took < drainDelay + gracePeriod + 2000, `exited after ${took} ms`);
    assert.ok(took >= drainDelay + gracePeriod - 50, `waited the grace period (${took} ms)`);
    const error = await stuck as grpc.ServiceError;
    if (TEST_TRANSPORT === "native") {
      // The native transport ends the calls it cuts off UNAVAILABLE in their own trailers,
      // and counts and logs that code; grpc-js drops the connection (the client says either).
      assert.equal(error.code, grpc.status.UNAVAILABLE, error.details);
      const line = svc.logs().find((l) => l.msg === "call" && l.method === "/e2e.Test/Sleep");
      assert.equal(line?.code, "Unavailable", JSON.stringify(line));
    } else {
      assert.ok(
        [grpc.status.UNAVAILABLE, grpc.status.CANCELLED].includes(error.code),
        `code ${error.code}`,
      );
    }
    assert.ok(
      svc.logs().some((l) => l.msg === "sleep aborted" && l.tag === "stuck"),
      "the stuck handler's ctx.signal aborted",
    );
    chat.cancel();
  } finally {
    client.close();
  }
});

Deno.test("a second signal exits at once with a non-zero code", async () => {
  await using svc = await startSvc({
    config: CONFIG,
    env: { SVC_SHUTDOWN_DRAIN_DELAY: "30s", SVC_SHUTDOWN_GRACE_PERIOD: "30s" },
  });
  svc.kill("SIGTERM");
  await svc.waitForLog((l) => l.msg === "shutdown: health NOT_SERVING");
  const started = performance.now();
  svc.kill("SIGINT");
  const exit = await svc.exited;
  assert.notEqual(exit.code, 0);
  assert.ok(performance.now() - started < 2000);
});
