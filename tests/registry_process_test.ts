/**
 * Registration and discovery with real `svc run` processes and a real etcd:
 * the key layout grpc-go's resolver reads, deregistration before exit, a
 * frozen etcd that cannot hold shutdown, and a frontend balancing over
 * backends it finds in etcd.
 */
import assert from "node:assert/strict";
import { SHUTDOWN_SLACK_MS } from "../runtime/app/shutdown.ts";
import { etcdMissing, startEtcd, waitFor } from "./_etcd.ts";
import { grpcClient, ROOT, startSvc, type SvcProcess, unary } from "./_harness.ts";

const missing = await etcdMissing();
const EXAMPLE = `${ROOT}/examples/discovery`;

function registryEnv(endpoint: string): Record<string, string> {
  return { SVC_REGISTRY_TYPE: "etcd", SVC_REGISTRY_ENDPOINTS: endpoint, SVC_REGISTRY_TTL: "2s" };
}

function registered(svc: SvcProcess) {
  return svc.waitForLog((l) => l.msg === "registry: registered", 15_000);
}

Deno.test({
  name: "svc run registers in etcd as grpc-go's resolver expects and deregisters before it exits",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    await using svc = await startSvc({
      config: `${EXAMPLE}/backend.yaml`,
      env: { ...registryEnv(etcd.endpoint), SVC_SERVER_HOST: "127.0.0.1" },
    });
    const line = await registered(svc);
    const key = `services/demo.Backend/127.0.0.1:${svc.port}`;
    const got = await etcd.ctl(["get", "--prefix", "services/", "-w", "json"]);
    const kvs = JSON.parse(got.stdout).kvs as { key: string; value: string; lease: number }[];
    assert.equal(kvs.length, 1);
    assert.equal(atob(kvs[0].key), key);
    const value = JSON.parse(atob(kvs[0].value));
    assert.deepEqual(Object.keys(value), ["Op", "Addr", "Metadata"]);
    assert.equal(value.Op, 0);
    assert.equal(value.Addr, `127.0.0.1:${svc.port}`);
    // Lease IDs are 64-bit: JSON.parse would round kvs[0].lease, so take the hex from the log.
    const lease = await etcd.ctl(["lease", "timetolive", String(line.lease), "--keys"]);
    assert.match(lease.stdout, /granted with TTL\(2s\)/);
    assert.ok(lease.stdout.includes(key), lease.stdout);

    // A watcher sees the DELETE before the process has exited.
    const watch = new Deno.Command("etcdctl", {
      args: ["--endpoints", etcd.endpoint, "watch", "--prefix", "services/"],
      env: { ETCDCTL_API: "3" },
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = watch.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await new Promise((r) => setTimeout(r, 300));
    svc.kill("SIGTERM");
    let seen = "";
    let exitedFirst = false;
    svc.exited.then(() => exitedFirst = !seen.includes("DELETE"));
    while (!seen.includes("DELETE")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    watch.kill();
    await reader.cancel();
    await watch.status;
    assert.match(seen, /DELETE/);
    assert.equal(exitedFirst, false, "the key was gone before the process exited");
    assert.deepEqual(await svc.exited, { code: 0, signal: null });
  },
});

Deno.test({
  name: "with etcd frozen, SIGTERM still exits within drainDelay + gracePeriod + 2s",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    await using svc = await startSvc({
      config: `${EXAMPLE}/backend.yaml`,
      env: {
        ...registryEnv(etcd.endpoint),
        SVC_SHUTDOWN_DRAIN_DELAY: "200ms",
        SVC_SHUTDOWN_GRACE_PERIOD: "1s",
      },
    });
    await registered(svc);
    etcd.freeze();
    try {
      const started = performance.now();
      svc.kill("SIGTERM");
      const exit = await svc.exited;
      const took = performance.now() - started;
      assert.equal(exit.code, 0);
      assert.ok(took < 200 + 1000 + 2000, `took ${Math.round(took)} ms`);
      assert.ok(
        svc.logs().some((l) =>
          l.msg === "registry: deregistration incomplete; the keys expire with the lease"
        ),
      );
    } finally {
      etcd.thaw();
    }
  },
});

Deno.test({
  name:
    "with etcd frozen and a handler that ignores cancellation, SIGTERM exits 0 within drainDelay + gracePeriod + the stated slack",
  ignore: missing !== null,
  async fn() {
    const drainDelay = 200, gracePeriod = 1000;
    await using etcd = await startEtcd();
    await using svc = await startSvc({
      config: `${ROOT}/tests/fixtures/e2e/svc.yaml`,
      env: {
        ...registryEnv(etcd.endpoint),
        SVC_SHUTDOWN_DRAIN_DELAY: `${drainDelay}ms`,
        SVC_SHUTDOWN_GRACE_PERIOD: `${gracePeriod}ms`,
      },
    });
    await registered(svc);
    const client = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`])
      .makeClient("e2e.Test", svc.port);
    const deaf = unary(client, "sleep", { ms: 60_000, tag: "deaf" }, { timeoutMs: 60_000 })
      .catch((error) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    etcd.freeze();
    try {
      const started = performance.now();
      svc.kill("SIGTERM");
      const exit = await svc.exited;
      const took = performance.now() - started;
      assert.deepEqual(exit, { code: 0, signal: null }, "exit 0, not the watchdog's 1");
      // 300 ms for the process to start dying and exit.
      assert.ok(
        took < drainDelay + gracePeriod + SHUTDOWN_SLACK_MS + 300,
        `took ${Math.round(took)} ms`,
      );
      assert.ok(svc.logs().some((l) => l.msg === "shutdown: complete"));
      assert.ok(!svc.logs().some((l) => l.msg === "shutdown took too long; exiting now"));
      assert.ok([1, 14].includes((await deaf).code), "the deaf call was cancelled or unavailable");
    } finally {
      etcd.thaw();
      client.close();
    }
  },
});

Deno.test({
  name:
    "a frontend's ctx.clients balances over backends found in etcd and follows them coming and going",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    const env = registryEnv(etcd.endpoint);
    const backends = await Promise.all(
      [0, 1, 2].map(() => startSvc({ config: `${EXAMPLE}/backend.yaml`, env })),
    );
    try {
      await Promise.all(backends.map(registered));
      await using frontend = await startSvc({ config: `${EXAMPLE}/frontend.yaml`, env });
      const client = grpcClient([`${EXAMPLE}/proto/frontend.proto`]).makeClient(
        "demo.Frontend",
        frontend.port,
      );
      try {
        const tally = async (times: number) =>
          (await unary<{ byBackend: Record<string, number> }>(client, "greetMany", {
            name: "x",
            times,
          }, {
            timeoutMs: 30_000,
          })).byBackend;
        await waitFor("three backends seen", async () => Object.keys(await tally(30)).length === 3);
        const shares = Object.values(await tally(300));
        assert.equal(shares.length, 3);
        for (const share of shares) assert.ok(Math.abs(share - 100) <= 10, `shares ${shares}`);

        // Deadline propagation: the backend sees what is left of the frontend's deadline.
        const reply = await unary<{ backendDeadlineMs: number }>(client, "greet", { name: "d" }, {
          timeoutMs: 2000,
        });
        assert.ok(
          reply.backendDeadlineMs > 0 && reply.backendDeadlineMs <= 2000,
          `${reply.backendDeadlineMs}`,
        );

        // One backend dies without deregistering: no client-visible failure.
        backends[0].kill("SIGKILL");
        await backends[0].exited;
        for (let i = 0; i < 5; i++) await tally(20);
        // Its key expires with its lease (TTL 2 s) and traffic goes to the others.
        await waitFor("the dead backend's key expires", async () => {
          const got = await etcd.ctl(["get", "--prefix", "services/demo.Backend/", "--keys-only"]);
          return got.stdout.trim().split("\n").filter(Boolean).length === 2;
        }, 10_000);
        assert.equal(Object.keys(await tally(30)).length, 2);

        // A new backend gets traffic within a second of registering.
        const fresh = await startSvc({ config: `${EXAMPLE}/backend.yaml`, env });
        backends.push(fresh);
        await registered(fresh);
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal(Object.keys(await tally(30)).length, 3);
      } finally {
        client.close();
      }
    } finally {
      await Promise.all(backends.map((b) => b.stop()));
    }
  },
});

Deno.test({
  name: "etcd killed for longer than 2×TTL while calls flow: none fail, and one key is back after",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    await using svc = await startSvc({
      config: `${EXAMPLE}/backend.yaml`,
      env: { ...registryEnv(etcd.endpoint), SVC_SERVER_HOST: "127.0.0.1" },
    });
    await registered(svc);
    const client = grpcClient([`${EXAMPLE}/proto/backend.proto`]).makeClient(
      "demo.Backend",
      svc.port,
    );
    try {
      await etcd.kill();
      let calls = 0, failures = 0;
      const until = Date.now() + 5_000; // TTL is 2 s
      while (Date.now() < until) {
        await unary(client, "echo", { text: "during outage" }).then(
          () => calls++,
          () => failures++,
        );
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(failures, 0, `${failures} of ${calls + failures} calls failed`);
      assert.ok(calls > 50);
      await etcd.start();
      await waitFor("exactly one key again", async () => {
        const got = await etcd.ctl(["get", "--prefix", "services/", "--keys-only"]);
        const keys = got.stdout.trim().split("\n").filter(Boolean);
        return keys.length === 1 && keys[0] === `services/demo.Backend/127.0.0.1:${svc.port}`;
      }, 15_000);
      assert.ok(
        svc.logs().some((l) =>
          String(l.msg).startsWith("registry: registration lost") ||
          String(l.msg).startsWith("registry: registration failed")
        ),
      );
    } finally {
      client.close();
    }
  },
});
