/**
 * A Go service finds svc instances in etcd exactly as it finds Go ones:
 * grpc-go with etcd's own naming resolver (go.etcd.io/etcd/clientv3/naming/
 * resolver) dials etcd:///services/helloworld.Greeter, balances round-robin
 * over two `svc run` processes, and stops calling one that shut down. The
 * client is tests/go/etcd_client/main.go, built by tests/_go.ts; without Go
 * and Debian's Go sources the test is skipped with one line saying why.
 */
import assert from "node:assert/strict";
import { etcdMissing, startEtcd } from "./_etcd.ts";
import { buildGo, goMissing, runGo } from "./_go.ts";
import { startSvc, type SvcProcess } from "./_harness.ts";

const TARGET = "etcd:///services/helloworld.Greeter";

const missing = await etcdMissing() ??
  await goMissing(["google.golang.org/grpc", "go.etcd.io/etcd/clientv3/naming/resolver"]);
if (missing) console.log(`go_client_test: skipped: ${missing}`);

interface CallResult {
  peer: string;
  message: string;
  error: string;
}

Deno.test({
  name: "a grpc-go client with etcd's resolver balances over svc instances and drops a stopped one",
  ignore: missing !== null,
  async fn() {
    const client = await buildGo("etcd_client");
    await using etcd = await startEtcd();
    const env = {
      SVC_REGISTRY_TYPE: "etcd",
      SVC_REGISTRY_ENDPOINTS: etcd.endpoint,
      SVC_REGISTRY_TTL: "2s",
      SVC_SERVER_HOST: "127.0.0.1",
    };
    await using a = await startSvc({ config: "config/svc.yaml", env });
    await using b = await startSvc({ config: "config/svc.yaml", env });
    await Promise.all([registered(a), registered(b)]);
    const addressOf = (svc: SvcProcess) => `127.0.0.1:${svc.port}`;

    const calls = await callThroughEtcd(client, etcd.endpoint, 40);
    assert.deepEqual(calls.filter((c) => c.error), [], "no call failed");
    assert.ok(calls.every((c) => c.message === "Hello, Go!"), JSON.stringify(calls[0]));
    const perPeer = count(calls.map((c) => c.peer));
    assert.deepEqual([...perPeer.keys()].sort(), [addressOf(a), addressOf(b)].sort());
    for (const [peer, n] of perPeer) assert.ok(n >= 14 && n <= 26, `${peer} got ${n} of 40`);

    // SIGTERM deletes b's key before b stops listening; a new client sees only a.
    await b.stop();
    const after = await callThroughEtcd(client, etcd.endpoint, 10);
    assert.deepEqual(after.filter((c) => c.error), []);
    assert.deepEqual([...count(after.map((c) => c.peer)).keys()], [addressOf(a)]);
  },
});

function registered(svc: SvcProcess) {
  return svc.waitForLog((l) => l.msg === "registry: registered", 15_000);
}

function count(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

async function callThroughEtcd(
  client: string,
  endpoint: string,
  calls: number,
): Promise<CallResult[]> {
  const lines = await runGo(client, [
    "-etcd",
    endpoint,
    "-target",
    TARGET,
    "-calls",
    String(calls),
  ]);
  return lines.map((line) => JSON.parse(line));
}
