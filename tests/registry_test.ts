/**
 * The etcd registrar against a real etcd 3.4: key layout, lease and TTL,
 * recovery from external revoke, key deletion, etcd restarts and etcd being
 * down at start, and a deregistration that a frozen etcd cannot hang.
 * TTL is 2 s throughout to keep the tests short.
 */
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import type { ResolvedRegistry } from "../runtime/config/types.ts";
import { createLogger } from "../runtime/log/mod.ts";
import { etcdEndpointIssues } from "../runtime/etcd/etcd_client.ts";
import { createRegistrar, type RegistrarOptions } from "../runtime/registry/mod.ts";
import { makeTestCerts } from "./_certs.ts";
import { createEtcd, etcdMissing, type EtcdServer, startEtcd, waitFor } from "./_etcd.ts";

const missing = await etcdMissing();
const TTL_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Any unhandled rejection (etcd3 emits errors on leases and watchers) fails the run.
const rejections: unknown[] = [];
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  rejections.push(event.reason);
});
function assertNoRejections() {
  assert.deepEqual(rejections.map(String), [], "unhandled promise rejections");
}

/** A registry section as config would resolve it, pointed at `etcd`. */
function registry(etcd: EtcdServer, extra: Partial<ResolvedRegistry> = {}): ResolvedRegistry {
  return {
    type: "etcd",
    endpoints: [etcd.endpoint],
    prefix: "services",
    ttl: TTL_MS,
    advertise: "",
    metadata: {},
    auth: null,
    tls: null,
    ...extra,
  };
}

/** Registrar options plus a log and metrics the test can read. */
function harness(etcd: EtcdServer, overrides: Partial<RegistrarOptions> = {}) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l)) });
  const metrics = { registered: false, registrations: 0, failures: 0 };
  const options: RegistrarOptions = {
    registry: registry(etcd),
    services: ["demo.Backend", "demo.Admin"],
    address: { host: "127.0.0.1", port: 7001 },
    log,
    metrics: {
      setRegistryRegistered: (r) => metrics.registered = r,
      onRegistryRegistration: () => metrics.registrations++,
      onRegistryFailure: () => metrics.failures++,
    },
    ...overrides,
  };
  return { options, lines, metrics, msgs: () => lines.map((l) => String(l.msg)) };
}

interface Kv {
  key: string;
  value: string;
  /** Lease in hex, as etcdctl prints it elsewhere. */
  lease: string;
}

/** Keys under `prefix` via etcdctl; lease IDs parsed exactly (they exceed 2^53). */
async function keysUnder(etcd: EtcdServer, prefix = "services/"): Promise<Kv[]> {
  const { code, stdout, stderr } = await etcd.ctl(["get", "--prefix", prefix, "-w", "json"]);
  assert.equal(code, 0, stderr);
  const leases = [...stdout.matchAll(/"lease":(\d+)/g)].map((m) => BigInt(m[1]).toString(16));
  const kvs = (JSON.parse(stdout).kvs ?? []) as { key: string; value: string }[];
  return kvs.map((kv, i) => ({ key: atob(kv.key), value: atob(kv.value), lease: leases[i] }));
}

Deno.test({
  name: "createRegistrar() puts grpc-go's key and value under a TTL lease that outlives 3×TTL",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    const { options, metrics } = harness(etcd, {
      registry: registry(etcd, { metadata: { zone: "a" } }),
      version: "1.2.3",
    });
    await using registrar = createRegistrar(options);
    registrar.start();
    await waitFor("registered", () => registrar.state === "registered");

    const kvs = await keysUnder(etcd);
    assert.deepEqual(kvs.map((kv) => kv.key), [
      "services/demo.Admin/127.0.0.1:7001",
      "services/demo.Backend/127.0.0.1:7001",
    ]);
    for (const kv of kvs) {
      assert.equal(
        kv.value,
        '{"Op":0,"Addr":"127.0.0.1:7001","Metadata":"version=1.2.3&zone=a"}',
      );
      assert.equal(kv.lease, registrar.leaseId);
    }
    const ttl = await etcd.ctl(["lease", "timetolive", registrar.leaseId!, "--keys"]);
    assert.match(ttl.stdout, /granted with TTL\(2s\)/);
    assert.match(ttl.stdout, /services\/demo\.Backend\/127\.0\.0\.1:7001/);
    assert.deepEqual(metrics, { registered: true, registrations: 1, failures: 0 });

    await sleep(3 * TTL_MS + 500);
    const later = await keysUnder(etcd);
    assert.equal(later.length, 2);
    assert.ok(later.every((kv) => kv.lease === registrar.leaseId), "same lease, kept alive");
    assert.equal(metrics.registrations, 1);
    assertNoRejections();
  },
});

Deno.test({
  name: "deregister() deletes the keys (a watcher sees DELETE) and revokes the lease",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    const { options, metrics, msgs } = harness(etcd);
    await using registrar = createRegistrar(options);
    registrar.start();
    await waitFor("registered", () => registrar.state === "registered");
    const lease = registrar.leaseId!;

    const watcherClient = new Etcd3({ hosts: etcd.endpoint });
    try {
      const watcher = await watcherClient.watch().prefix("services/").create();
      const deleted: string[] = [];
      watcher.on("delete", (kv) => deleted.push(kv.key.toString()));
      await registrar.deregister();
      await waitFor("two DELETE events", () => deleted.length === 2, 2_000);
      await watcher.cancel();
    } finally {
      watcherClient.close();
    }
    assert.deepEqual(await keysUnder(etcd), []);
    const ttl = await etcd.ctl(["lease", "timetolive", lease]);
    assert.match(ttl.stdout, /already expired/);
    assert.equal(registrar.state, "stopped");
    assert.equal(metrics.registered, false);
    assert.ok(msgs().includes("registry: deregistered"));
    assertNoRejections();
  },
});

Deno.test({
  name: "an external `etcdctl lease revoke` is followed by a new lease within TTL + 1 s",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    const { options, metrics, msgs } = harness(etcd);
    await using registrar = createRegistrar(options);
    registrar.start();
    await waitFor("registered", () => registrar.state === "registered");
    const first = registrar.leaseId!;

    const revoked = Date.now();
    assert.equal((await etcd.ctl(["lease", "revoke", first])).code, 0);
    const kvs = await waitFor("keys under a new lease", async () => {
      const kvs = await keysUnder(etcd);
      return kvs.length === 2 && kvs.every((kv) => kv.lease !== first) ? kvs : null;
    }, TTL_MS + 1_000);
    const elapsed = Date.now() - revoked;
    assert.ok(elapsed <= TTL_MS + 1_000, `re-registered after ${elapsed} ms`);
    assert.equal(kvs[0].lease, kvs[1].lease);
    await waitFor("state registered", () => registrar.state === "registered" && registrar.leaseId);
    assert.equal(registrar.leaseId, kvs[0].lease);
    assert.equal(metrics.registrations, 2);
    assert.ok(msgs().includes("registry: registration lost; registering again"));
    assertNoRejections();
  },
});

Deno.test({
  name: "a key deleted by someone else is put back",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    const { options } = harness(etcd, { services: ["demo.Backend"] });
    await using registrar = createRegistrar(options);
    registrar.start();
    await waitFor("registered", () => registrar.state === "registered");

    assert.equal((await etcd.ctl(["del", "services/demo.Backend/127.0.0.1:7001"])).code, 0);
    await waitFor("the key back", async () => (await keysUnder(etcd)).length === 1, 2_000);
    // The old lease is revoked once the key moved to the new one: one lease, one key.
    const leases = await etcd.ctl(["lease", "list"]);
    await waitFor("one lease left", async () => {
      const list = (await etcd.ctl(["lease", "list"])).stdout;
      return list.includes("found 1 leases") && list;
    }, 3_000).catch(() => assert.fail(`leases: ${leases.stdout}`));
    assertNoRejections();
  },
});

Deno.test({
  name: "etcd killed for longer than 2×TTL: exactly one key per service soon after it restarts",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    const { options, metrics, msgs } = harness(etcd, { services: ["demo.Backend"] });
    await using registrar = createRegistrar(options);
    registrar.start();
    await waitFor("registered", () => registrar.state === "registered");
    const first = registrar.leaseId;

    await etcd.kill();
    await sleep(2 * TTL_MS + 1_000);
    await waitFor("state retrying", () => registrar.state === "retrying", 2_000);
    assert.equal(metrics.registered, false);
    const restarted = Date.now();
    await etcd.start();
    await waitFor("registered again", () => registrar.state === "registered", 5_000);
    // The old lease survives an etcd restart (leases are refreshed on
    // leader election); the key must still be single and on the new lease.
    await waitFor("one key on the new lease", async () => {
      const kvs = await keysUnder(etcd);
      return kvs.length === 1 && kvs[0].lease === registrar.leaseId && kvs[0].lease !== first;
    }, 3_000);
    console.log(`re-registered ${Date.now() - restarted} ms after etcd restarted`);
    await sleep(TTL_MS + 500);
    assert.equal((await keysUnder(etcd)).length, 1, "still exactly one key after the old TTL");
    assert.ok(metrics.failures >= 1);
    assert.ok(msgs().includes("registry: registration lost; registering again"));
    assertNoRejections();
  },
});

Deno.test({
  name: "etcd down at start: the registrar retries and registers when etcd appears",
  ignore: missing !== null,
  async fn() {
    await using etcd = await createEtcd();
    const { options, metrics, msgs } = harness(etcd, { services: ["demo.Backend"] });
    await using registrar = createRegistrar(options);
    registrar.start();
    await waitFor("a failed attempt", () => metrics.failures >= 2, 5_000);
    assert.equal(registrar.state, "retrying");
    assert.ok(msgs().includes("registry: registration failed; retrying"));

    await etcd.start();
    await waitFor("registered", () => registrar.state === "registered", 5_000);
    assert.equal((await keysUnder(etcd)).length, 1);
    assertNoRejections();
  },
});

Deno.test({
  name: "deregister() and close() return within their bounds while etcd is frozen (SIGSTOP)",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    const { options, msgs } = harness(etcd, { services: ["demo.Backend"] });
    const registrar = createRegistrar(options);
    try {
      registrar.start();
      await waitFor("registered", () => registrar.state === "registered");
      etcd.freeze();
      const started = Date.now();
      await registrar.deregister(1_500);
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 1_800, `deregister took ${elapsed} ms`);
      assert.ok(
        msgs().includes("registry: deregistration incomplete; the keys expire with the lease"),
      );
      const closing = Date.now();
      await registrar.close(1_000);
      assert.ok(Date.now() - closing < 1_300, `close took ${Date.now() - closing} ms`);
    } finally {
      etcd.thaw();
      await registrar.close();
    }
    // Thawed, etcd expires the lease by itself: the key goes within a TTL or so.
    await waitFor("the key expired", async () => (await keysUnder(etcd)).length === 0, 3 * TTL_MS);
    assertNoRejections();
  },
});

Deno.test({
  name: "registers with etcd user/password auth; a wrong password is retried and logged",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    assert.equal((await etcd.ctl(["user", "add", "root:secret"])).code, 0);
    assert.equal((await etcd.ctl(["auth", "enable"])).code, 0);
    const auth = { username: "root", password: "secret" };
    const good = harness(etcd, { registry: registry(etcd, { auth }), services: ["demo.Backend"] });
    await using registrar = createRegistrar(good.options);
    registrar.start();
    await waitFor("registered", () => registrar.state === "registered");
    const listed = await etcd.ctl(["--user=root:secret", "get", "--prefix", "services/"]);
    assert.match(listed.stdout, /services\/demo\.Backend\/127\.0\.0\.1:7001/);

    const wrong = { username: "root", password: "wrong" };
    const bad = harness(etcd, { registry: registry(etcd, { auth: wrong }) });
    await using refused = createRegistrar(bad.options);
    refused.start();
    await waitFor("a failed attempt", () => bad.metrics.failures >= 1, 3_000);
    assert.equal(refused.state, "retrying");
    assert.match(String(bad.lines.at(-1)?.error), /authentication failed/);
    assertNoRejections();
  },
});

Deno.test({
  name: "registers over mutual TLS with the CA, client certificate and key from config",
  ignore: missing !== null,
  async fn() {
    const certs = await makeTestCerts();
    try {
      await using etcd = await startEtcd({
        tls: {
          cert: certs.serverCert,
          key: certs.serverKey,
          ca: certs.caCert,
          clientCert: certs.clientCert,
          clientKey: certs.clientKey,
        },
      });
      assert.match(etcd.endpoint, /^https:\/\/127\.0\.0\.1:/);
      const tls = { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey };
      // A DNS name from the certificate: Deno's node:tls refuses an IP as TLS server name.
      const endpoints = [etcd.endpoint.replace("127.0.0.1", "localhost")];
      assert.equal(etcdEndpointIssues(registry(etcd, { tls })).length, 1);
      assert.deepEqual(etcdEndpointIssues(registry(etcd, { tls, endpoints })), []);
      const { options } = harness(etcd, { registry: registry(etcd, { tls, endpoints }) });
      await using registrar = createRegistrar(options);
      registrar.start();
      await waitFor("registered", () => registrar.state === "registered");
      assert.equal((await keysUnder(etcd)).length, 2);
      await registrar.deregister();
      assert.equal((await keysUnder(etcd)).length, 0);
    } finally {
      await Deno.remove(certs.dir, { recursive: true });
    }
    assertNoRejections();
  },
});
