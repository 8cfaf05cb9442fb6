/**
 * The overload limiter on a real process, quickly: what it exports at rest,
 * and a synchronous burst longer than `overload.interval` shed with
 * UNAVAILABLE while health keeps answering. The load test that measures
 * goodput at 3x capacity is tests/load/overload.ts (`deno task test:load`).
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { parseExposition, promtoolCheck, valueOf } from "../runtime/metrics/_exposition.ts";
import { grpcClient, type GrpcTestClient, readAll, ROOT, startSvc, unary } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/overload/svc.yaml`;
const work = grpcClient([`${ROOT}/tests/fixtures/overload/proto/load.proto`]);
const health = grpcClient(["/usr/share/grpc-proto/grpc/health/v1/health.proto"]);
const reflection = grpcClient(["/usr/share/grpc-proto/grpc/reflection/v1/reflection.proto"]);

/** The services reflection lists, over one ServerReflectionInfo stream. */
async function listServices(client: GrpcTestClient): Promise<string[]> {
  const call = client.serverReflectionInfo();
  call.write({ listServices: "*" });
  call.end();
  const [answer] = await readAll<{ listServicesResponse: { service: { name: string }[] } }>(call);
  return answer.listServicesResponse.service.map((s) => s.name);
}
const ON = { SVC_OVERLOAD_ENABLED: "true" };

async function metricsOf(adminPort: number | null): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
}

Deno.test("overload off: no svc_overload_ series; on and at rest: nothing shed, promtool passes", async () => {
  {
    await using off = await startSvc({ config: CONFIG });
    assert.doesNotMatch(await metricsOf(off.adminPort), /svc_overload_/);
  }
  await using svc = await startSvc({ config: CONFIG, env: ON });
  const client = work.makeClient("load.Work", svc.port);
  try {
    for (let i = 0; i < 20; i++) await unary(client, "burn", { cpuUs: 100 });
  } finally {
    client.close();
  }
  const text = await metricsOf(svc.adminPort);
  const samples = parseExposition(text);
  assert.equal(valueOf(samples, "svc_overload_active", {}), 0);
  assert.equal(valueOf(samples, "svc_overload_rejections_total", { reason: "queue_delay" }), 0);
  assert.equal(valueOf(samples, "svc_overload_rejections_total", { reason: "concurrency" }), 0);
  assert.equal(valueOf(samples, "svc_overload_in_flight_calls", {}), 0);
  assert.ok(valueOf(samples, "svc_overload_limit", {}) !== undefined);
  const check = await promtoolCheck(text);
  assert.equal(check.code, 0, check.output);
});

Deno.test("overload on: a burst of 800 ms of CPU is cut with UNAVAILABLE; health and reflection are never shed", async () => {
  await using svc = await startSvc({ config: CONFIG, env: ON });
  const client = work.makeClient("load.Work", svc.port);
  const probe = health.makeClient("grpc.health.v1.Health", svc.port);
  const reflect = reflection.makeClient("grpc.reflection.v1.ServerReflection", svc.port);
  try {
    // Connected before the burst.
    await unary(client, "burn", { cpuUs: 10 });
    await unary(probe, "check", { service: "" });
    await listServices(reflect);
    const outcomes = Array.from(
      { length: 40 },
      () => unary(client, "burn", { cpuUs: 20_000 }).then(() => "ok", (e) => e),
    );
    const checked = unary<{ status: string }>(probe, "check", { service: "" });
    const listed = listServices(reflect);
    const results = await Promise.all(outcomes);
    assert.equal((await checked).status, "SERVING");
    assert.ok((await listed).includes("load.Work"));

    const ok = results.filter((r) => r === "ok").length;
    const shed = results.filter((r): r is grpc.ServiceError => r !== "ok");
    assert.ok(ok >= 1, "the first calls of the burst ran");
    assert.ok(shed.length >= 20, `only ${shed.length} of 40 shed`);
    for (const error of shed) {
      assert.equal(error.code, grpc.status.UNAVAILABLE, error.message);
      assert.match(error.details, /The server is overloaded/);
    }
    const samples = parseExposition(await metricsOf(svc.adminPort));
    const counted = ["queue_delay", "concurrency"]
      .map((reason) => valueOf(samples, "svc_overload_rejections_total", { reason }) ?? 0)
      .reduce((a, b) => a + b);
    assert.equal(counted, shed.length);
    assert.equal(valueOf(samples, "svc_overload_active", {}), 1, "within the cool-down");
    // Once the burst is over, calls are admitted again at once.
    await unary(client, "burn", { cpuUs: 10 });
  } finally {
    client.close();
    probe.close();
    reflect.close();
  }
});

Deno.test("overload on: rate limits and concurrency caps still apply beside it", async () => {
  await using svc = await startSvc({
    config: CONFIG,
    env: {
      ...ON,
      SVC_RATE_LIMIT_GLOBAL: JSON.stringify({ rate: 1, burst: 5 }),
      SVC_RATE_LIMIT_MAX_CONCURRENT_PER_METHOD: JSON.stringify({ "load.Work": 1 }),
    },
  });
  const client = work.makeClient("load.Work", svc.port);
  try {
    // Two at once: the cap of 1 in flight refuses the second before the bucket is touched.
    const pair = await Promise.all([
      unary(client, "burn", { cpuUs: 10, awaitMs: 50 }).then(() => "ok", (e) => e),
      unary(client, "burn", { cpuUs: 10, awaitMs: 50 }).then(() => "ok", (e) => e),
    ]);
    const capped = pair.filter((r): r is grpc.ServiceError => r !== "ok");
    assert.equal(capped.length, 1);
    assert.equal(capped[0].code, grpc.status.RESOURCE_EXHAUSTED);
    const results = [];
    for (let i = 0; i < 8; i++) {
      results.push(await unary(client, "burn", { cpuUs: 10 }).then(() => "ok", (e) => e));
    }
    const limited = results.filter((r): r is grpc.ServiceError => r !== "ok");
    assert.ok(limited.length >= 3, `${limited.length} of 8 over a burst of 5 were limited`);
    for (const error of limited) {
      assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(error.details, /rate limit "global" exceeded/);
    }
  } finally {
    client.close();
  }
  const samples = parseExposition(await metricsOf(svc.adminPort));
  assert.equal(valueOf(samples, "svc_overload_rejections_total", { reason: "queue_delay" }), 0);
  assert.equal(valueOf(samples, "svc_overload_rejections_total", { reason: "concurrency" }), 0);
});
