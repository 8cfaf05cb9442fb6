/**
 * Rate limits on a real process: burst arithmetic, per-method and per-key
 * isolation, the concurrency cap, streaming calls, health exempt, and the
 * rejection counter.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { parseExposition, valueOf } from "../runtime/metrics/_exposition.ts";
import { grpcClient, readAll, ROOT, startSvc, unary } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);
const health = grpcClient(["/usr/share/grpc-proto/grpc/health/v1/health.proto"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Outcome = "ok" | grpc.ServiceError;
const outcome = (p: Promise<unknown>): Promise<Outcome> => p.then(() => "ok" as const, (e) => e);

Deno.test("a global bucket of rate R and burst B lets about B+R of 3R calls in one second through", async () => {
  const rate = 20, burst = 10;
  await using svc = await startSvc({
    config: CONFIG,
    env: { SVC_ADMIN_ENABLED: "true", SVC_RATE_LIMIT_GLOBAL: JSON.stringify({ rate, burst }) },
  });
  const client = factory.makeClient("e2e.Test", svc.port);
  const probe = health.makeClient("grpc.health.v1.Health", svc.port);
  try {
    await unary(probe, "check", { service: "" }); // connect before timing
    const started = performance.now();
    const calls: Promise<Outcome>[] = [];
    for (let i = 0; i < 3 * rate; i++) {
      calls.push(outcome(unary(client, "echo", { message: String(i) })));
      await sleep(1000 / (3 * rate));
    }
    const results = await Promise.all(calls);
    const elapsed = (performance.now() - started) / 1000;
    const ok = results.filter((r) => r === "ok").length;
    const expected = burst + rate * elapsed;
    assert.ok(
      Math.abs(ok - expected) <= 3,
      `${ok} succeeded; expected about ${expected.toFixed(1)}`,
    );
    const rejected = results.filter((r) => r !== "ok") as grpc.ServiceError[];
    assert.ok(rejected.every((e) => e.code === grpc.status.RESOURCE_EXHAUSTED));
    assert.match(
      rejected[0].details,
      /rate limit "global" exceeded \(20\/s, burst 10\); retry after \d+ms/,
    );
    assert.match(String(rejected[0].metadata.get("retry-after-ms")[0]), /^\d+$/);

    // Health is exempt even while the bucket is empty.
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(await unary(probe, "check", { service: "" }), { status: "SERVING" });
    }
    // Tokens refill.
    await sleep(300);
    assert.equal(await outcome(unary(client, "echo", {})), "ok");

    const metrics = parseExposition(
      await (await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`)).text(),
    );
    const counted = valueOf(metrics, "svc_rate_limit_rejections_total", {
      limit: "global",
      grpc_service: "e2e.Test",
      grpc_method: "Echo",
    });
    assert.equal(counted, rejected.length);
  } finally {
    client.close();
    probe.close();
  }
});

Deno.test("per-method, per-key and concurrency limits hold apart, for streams too", async (t) => {
  await using svc = await startSvc({
    config: CONFIG,
    env: {
      SVC_RATE_LIMIT_PER_METHOD: JSON.stringify({
        "/e2e.Test/Echo": { rate: 0.1, burst: 2 },
        "/e2e.Test/Count": { rate: 0.1, burst: 1 },
      }),
      SVC_RATE_LIMIT_PER_KEY: JSON.stringify({ key: "header:x-api-key", rate: 0.1, burst: 1 }),
      SVC_RATE_LIMIT_MAX_CONCURRENT_PER_METHOD: JSON.stringify({ "/e2e.Test/Sleep": 2 }),
    },
  });
  const client = factory.makeClient("e2e.Test", svc.port);
  const withKey = (key: string) => {
    const md = new grpc.Metadata();
    md.set("x-api-key", key);
    return md;
  };
  try {
    await t.step("one method's bucket does not drain another's", async () => {
      assert.equal(await outcome(unary(client, "echo", {}, { metadata: withKey("k1") })), "ok");
      assert.equal(await outcome(unary(client, "echo", {}, { metadata: withKey("k2") })), "ok");
      const third = await outcome(
        unary(client, "echo", {}, { metadata: withKey("k3") }),
      ) as grpc.ServiceError;
      assert.equal(third.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(third.details, /"perMethod \/e2e.Test\/Echo"/);
      assert.equal(
        await outcome(unary(client, "big", { size: 1 }, { metadata: withKey("k4") })),
        "ok",
      );
    });

    await t.step("a server stream is limited like a unary call", async () => {
      assert.equal((await readAll(client.count({ count: 2 }, withKey("k5")))).length, 2);
      await assert.rejects(readAll(client.count({ count: 2 }, withKey("k6"))), {
        code: grpc.status.RESOURCE_EXHAUSTED,
      });
    });

    await t.step("each caller key has its own bucket", async () => {
      assert.equal(
        await outcome(unary(client, "big", { size: 1 }, { metadata: withKey("alice") })),
        "ok",
      );
      const again = await outcome(
        unary(client, "big", { size: 1 }, { metadata: withKey("alice") }),
      ) as grpc.ServiceError;
      assert.equal(again.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(again.details, /"perKey header:x-api-key"/);
      assert.doesNotMatch(again.details, /alice/, "the key value is not echoed");
      assert.equal(
        await outcome(unary(client, "big", { size: 1 }, { metadata: withKey("bob") })),
        "ok",
      );
    });

    await t.step(
      "maxConcurrent caps in-flight calls of a method and frees slots as they end",
      async () => {
        const calls = ["c1", "c2", "c3"].map((key) =>
          outcome(unary(client, "sleep", { ms: 500 }, { metadata: withKey(key) }))
        );
        const results = await Promise.all(calls);
        const refused = results.filter((r) => r !== "ok") as grpc.ServiceError[];
        assert.equal(refused.length, 1);
        assert.equal(
          refused[0].details,
          'concurrency limit "perMethod /e2e.Test/Sleep" reached (2 in flight)',
        );
        assert.equal(
          await outcome(unary(client, "sleep", { ms: 1 }, { metadata: withKey("c4") })),
          "ok",
        );
      },
    );
  } finally {
    client.close();
  }
});

Deno.test("20,000 callers with distinct 12 KB keys cost the limiter a bounded few MB, not their keys' size", async () => {
  await using svc = await startSvc({
    config: CONFIG,
    env: {
      SVC_ADMIN_ENABLED: "true",
      SVC_LOGGING_ACCESS_LOG: "false",
      SVC_RATE_LIMIT_PER_KEY: JSON.stringify({ key: "header:x-api-key", rate: 1e6, burst: 1e6 }),
    },
  });
  const client = factory.makeClient("e2e.Test", svc.port);
  const rss = async () => {
    const text = await (await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`)).text();
    return valueOf(parseExposition(text), "process_resident_memory_bytes")!;
  };
  try {
    const call = (key: string) => {
      const md = new grpc.Metadata();
      md.set("x-api-key", key);
      return unary(client, "echo", { message: "x" }, { metadata: md });
    };
    const calls = 20_000;
    const flood = async (keyOf: (i: number) => string) => {
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < calls) await call(keyOf(next++));
      }));
    };
    // The same traffic with one key first: the heap grows to what 240 MB of
    // headers passing through needs, so what grows after is what the keys hold.
    await flood(() => "same:".padEnd(12_000, "k"));
    const before = await rss();
    await flood((i) => `${i}:`.padEnd(12_000, "k"));
    const grew = (await rss() - before) / 2 ** 20;
    console.log(`RSS grew ${grew.toFixed(1)} MiB over ${calls} distinct 12 KB keys`);
    // Kept whole, 10,000 keys (maxKeys) of 12 KB would hold ≥ 117 MiB.
    assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MiB`);
  } finally {
    client.close();
  }
});
