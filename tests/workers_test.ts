/**
 * `server.workers`: one `svc run` process whose worker threads serve one
 * port, with real grpc-js clients over real sockets, a real etcd and
 * promtool. It serves from every worker, registers once, aggregates
 * /metrics, restarts a crashed worker, holds rate and concurrency limits
 * for the whole process, and shuts down in the contract's order within its
 * bounds.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { makeTestCerts } from "./_certs.ts";
import {
  findSamples,
  parseExposition,
  promtoolCheck,
  valueOf,
} from "../runtime/metrics/_exposition.ts";
import { SHUTDOWN_SLACK_MS } from "../runtime/app/shutdown.ts";
import { etcdMissing, startEtcd, waitFor } from "./_etcd.ts";
import {
  grpcClient,
  type GrpcTestClient,
  ROOT,
  startSvc,
  type SvcProcess,
  unary,
} from "./_harness.ts";

const FIXTURE = `${ROOT}/tests/fixtures/workers`;
const CONFIG = `${FIXTURE}/svc.yaml`;
const probe = grpcClient([`${FIXTURE}/proto/probe.proto`]);
// The suite's grpc-js variant must not turn this into a config error: workers need native.
const NATIVE = { SVC_SERVER_TRANSPORT: "native" };

/** A client on its own connection (grpc-js would otherwise share one per target). */
function connection(port: number): GrpcTestClient {
  return probe.makeClient("workers.Probe", port, undefined, {
    "grpc.use_local_subchannel_pool": 1,
  });
}

async function whoami(port: number): Promise<string> {
  const client = connection(port);
  try {
    return (await unary<{ worker: string }>(client, "whoami", {})).worker;
  } finally {
    client.close();
  }
}

async function scrape(svc: SvcProcess): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`);
  assert.equal(response.status, 200);
  return await response.text();
}

/** The one sample of `name` with exactly `labels` in `metrics`. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  return valueOf(parseExposition(metrics), name, labels);
}

const WHOAMI = { grpc_service: "workers.Probe", grpc_method: "Whoami" };

Deno.test("two workers serve one port, each on its own thread, and /metrics adds them up", async () => {
  await using svc = await startSvc({ config: CONFIG, env: NATIVE });
  assert.equal(svc.logs().find((l) => l.msg === "serving")?.workers, 2);
  const seen = new Map<string, number>();
  const CALLS = 40;
  for (let i = 0; i < CALLS; i++) {
    const worker = await whoami(svc.port);
    seen.set(worker, (seen.get(worker) ?? 0) + 1);
  }
  // The kernel spreads connections over the two listeners; 40 all on one would be 2^-39.
  assert.deepEqual([...seen.keys()].sort(), ["svc-worker-0", "svc-worker-1"]);

  const metrics = await scrape(svc);
  assert.equal(
    sample(metrics, "grpc_server_handled_total", {
      grpc_type: "unary",
      ...WHOAMI,
      grpc_code: "OK",
    }),
    CALLS,
  );
  assert.equal(sample(metrics, "svc_workers"), 2);
  assert.equal(sample(metrics, "svc_workers_serving"), 2);
  assert.equal(sample(metrics, "svc_worker_restarts_total"), 0);
  // One process: its metrics once, not once per worker.
  assert.equal(findSamples(parseExposition(metrics), "process_start_time_seconds").length, 1);
  const checked = await promtoolCheck(metrics);
  assert.equal(checked.code, 0, checked.output);

  const ready = await fetch(`http://127.0.0.1:${svc.adminPort}/readyz`);
  assert.equal(ready.status, 200);
  await ready.body?.cancel();
});

Deno.test("with TLS and the web protocols on, every worker serves both", async () => {
  const certs = await makeTestCerts();
  try {
    await using svc = await startSvc({
      config: CONFIG,
      env: {
        ...NATIVE,
        SVC_SERVER_TLS_CERT: certs.serverCert,
        SVC_SERVER_TLS_KEY: certs.serverKey,
        SVC_SERVER_WEB_ENABLED: "true",
      },
    });
    const ca = Buffer.from(await Deno.readFile(certs.caCert));
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const client = probe.makeClient("workers.Probe", svc.port, grpc.credentials.createSsl(ca), {
        "grpc.use_local_subchannel_pool": 1,
        "grpc.ssl_target_name_override": "localhost",
      });
      try {
        seen.add((await unary<{ worker: string }>(client, "whoami", {})).worker);
      } finally {
        client.close();
      }
    }
    assert.equal(seen.size, 2, "TLS connections reached both workers");
    // Connect JSON over HTTP/1.1 on the same TLS port, on fresh connections.
    const http = Deno.createHttpClient({ caCerts: [new TextDecoder().decode(ca)], http2: false });
    try {
      const web = new Set<string>();
      for (let i = 0; i < 40 && web.size < 2; i++) {
        const response = await fetch(`https://localhost:${svc.port}/workers.Probe/Whoami`, {
          method: "POST",
          headers: { "content-type": "application/json", connection: "close" },
          body: "{}",
          client: http,
        });
        assert.equal(response.status, 200);
        web.add((await response.json()).worker);
      }
      assert.equal(web.size, 2, "Connect calls reached both workers");
    } finally {
      http.close();
    }
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test("a worker that crashes is restarted and counted, and the port serves throughout", async () => {
  await using svc = await startSvc({ config: CONFIG, env: NATIVE });
  const client = connection(svc.port);
  let crashed: string;
  try {
    crashed = (await unary<{ worker: string }>(client, "crash", {})).worker;
  } finally {
    client.close();
  }
  const line = await svc.waitForLog((l) => l.msg === "worker crashed; restarting it", 10_000);
  assert.equal(line.worker, Number(crashed.replace("svc-worker-", "")));
  assert.match(String(line.error), /probe crash/);
  // Calls keep being served while it restarts, by the other worker. A connection the kernel
  // queued on the dead worker's listener before it closed is reset (UNAVAILABLE): gRPC clients
  // retry those, so this one does, a few times.
  for (let i = 0; i < 10; i++) {
    let worker = "";
    for (let attempt = 1; worker === ""; attempt++) {
      worker = await whoami(svc.port).catch((error) => {
        if (error.code !== 14 || attempt === 3) throw error;
        return "";
      });
    }
    assert.match(worker, /^svc-worker-[01]$/);
  }
  await waitFor("the crashed worker to serve again", async () => {
    const metrics = await scrape(svc);
    return sample(metrics, "svc_workers_serving") === 2 &&
      sample(metrics, "svc_worker_restarts_total") === 1;
  }, 15_000);
  const seen = new Set<string>();
  for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await whoami(svc.port));
  assert.ok(seen.has(crashed), `the restarted ${crashed} serves again`);
});

/** One client connected to each worker (a connection stays on the worker that accepted it). */
async function clientPerWorker(port: number): Promise<GrpcTestClient[]> {
  const byWorker = new Map<string, GrpcTestClient>();
  for (let i = 0; i < 60 && byWorker.size < 2; i++) {
    const client = connection(port);
    const { worker } = await unary<{ worker: string }>(client, "whoami", {});
    if (byWorker.has(worker)) client.close();
    else byWorker.set(worker, client);
  }
  assert.equal(byWorker.size, 2, "connections reached both workers");
  return [...byWorker.entries()].sort().map(([, client]) => client);
}

Deno.test("a rate limit holds for the process: what one worker's callers took, another's cannot", async () => {
  await using svc = await startSvc({
    config: CONFIG,
    env: {
      ...NATIVE,
      // Nearly no refill within the test: the burst is all there is. Exempt nothing: the
      // whoami calls that find the workers take tokens too, so count them.
      SVC_RATE_LIMIT_GLOBAL: JSON.stringify({ rate: 0.001, burst: 8 }),
    },
  });
  const [first, second] = await clientPerWorker(svc.port);
  try {
    const code = (client: GrpcTestClient) =>
      unary(client, "whoami", {}).then(() => "OK", (e) => e.code as number);
    const codes: (string | number)[] = [];
    // Drain what is left of the burst on the first worker...
    for (let i = 0; i < 10; i++) codes.push(await code(first));
    // ...and the second worker has none to give: one bucket, not one each.
    const other = await code(second);
    assert.equal(other, 8, `codes on the first worker: ${JSON.stringify(codes)}`);
    assert.equal(codes.at(-1), 8);
    const metrics = await scrape(svc);
    const rejected = sample(metrics, "svc_rate_limit_rejections_total", {
      limit: "global",
      ...WHOAMI,
    });
    assert.equal(
      rejected,
      codes.filter((c) => c === 8).length + 1,
      "/metrics adds up both workers",
    );
  } finally {
    first.close();
    second.close();
  }
});

Deno.test("maxConcurrent counts the calls in flight on every worker", async () => {
  await using svc = await startSvc({
    config: CONFIG,
    env: {
      ...NATIVE,
      SVC_RATE_LIMIT_MAX_CONCURRENT_PER_METHOD: JSON.stringify({ "/workers.Probe/Sleep": 2 }),
    },
  });
  const [first, second] = await clientPerWorker(svc.port);
  try {
    const held = [0, 1].map(() => unary(first, "sleep", { sleepMs: 1_000 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Both places are taken on the first worker; per worker, the second would have two free.
    const refused = await unary(second, "sleep", { sleepMs: 10 }).then(() => "OK", (e) => e.code);
    assert.equal(refused, 8);
    await Promise.all(held);
    // Released on the first worker, so free for the second.
    assert.ok(await unary(second, "sleep", { sleepMs: 10 }));
  } finally {
    first.close();
    second.close();
  }
});

Deno.test({
  name: "workers register once in etcd and the shutdown keeps the contract's order and bounds",
  ignore: (await etcdMissing()) !== null,
  async fn() {
    await using etcd = await startEtcd();
    const GRACE_MS = 3_000;
    await using svc = await startSvc({
      config: CONFIG,
      env: {
        ...NATIVE,
        SVC_REGISTRY_TYPE: "etcd",
        SVC_REGISTRY_ENDPOINTS: etcd.endpoint,
        SVC_REGISTRY_TTL: "2s",
        SVC_SERVER_HOST: "127.0.0.1",
        SVC_SHUTDOWN_DRAIN_DELAY: "500ms",
      },
    });
    await svc.waitForLog((l) => l.msg === "registry: registered", 15_000);
    const got = await etcd.ctl(["get", "--prefix", "services/", "--keys-only"]);
    const keys = got.stdout.split("\n").filter((k) => k.trim() !== "");
    assert.deepEqual(keys, [`services/workers.Probe/127.0.0.1:${svc.port}`]);

    // Calls in flight on both workers when SIGTERM comes finish within the grace period. The
    // kernel hashes each connection to a worker, so 8 fresh connections all land on one worker
    // once in 128 runs (CI saw it): find a connection to each worker first, then load both.
    const clients = await clientPerWorker(svc.port);
    const slow = clients.flatMap((client) =>
      [0, 1, 2, 3].map(() => unary<{ worker: string }>(client, "sleep", { sleepMs: 1_500 }))
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    svc.kill("SIGTERM");
    const replies = await Promise.all(slow);
    for (const client of clients) client.close();
    assert.equal(new Set(replies.map((r) => r.worker)).size, 2, "both workers had calls in flight");
    const status = await svc.exited;
    const tookMs = performance.now() - started;
    assert.equal(status.code, 0, svc.stderr());
    assert.ok(tookMs < 500 + GRACE_MS + SHUTDOWN_SLACK_MS, `exited after ${tookMs} ms`);
    const steps = svc.logs().filter((l) =>
      String(l.msg).startsWith("shutdown: ") && l.worker === undefined
    )
      .map((l) => l.msg);
    assert.deepEqual(steps, [
      "shutdown: health NOT_SERVING",
      "shutdown: deregistered",
      "shutdown: stopped accepting calls",
      "shutdown: server closed",
      "shutdown: complete",
    ]);
    const after = await etcd.ctl(["get", "--prefix", "services/", "--keys-only"]);
    assert.equal(after.stdout.trim(), "");
  },
});
