import assert from "node:assert/strict";
import { RpcError, Status } from "../core/errors.ts";
import type { ResolvedRegistry } from "../config/types.ts";
import type { Clients } from "./clients.ts";
import { createClients, type DependencyOptions } from "./discovery.ts";
import { backendMethods, memoryLogger, startTestBackend, type TestBackend } from "./_testing.ts";

const METHODS = await backendMethods();
const REGISTRY: ResolvedRegistry = {
  type: "none",
  endpoints: ["http://127.0.0.1:1"],
  prefix: "services",
  ttl: 10_000,
  advertise: "",
  metadata: {},
  auth: null,
  tls: null,
};

function staticClients(backends: TestBackend[], extra: Partial<DependencyOptions> = {}): Clients {
  return createClients({
    registry: REGISTRY,
    dependencies: new Map([["demo.Backend", {
      methods: METHODS,
      static: backends.map((b) => b.address),
      ...extra,
    }]]),
    log: memoryLogger("warn").log,
  });
}

// deno-lint-ignore no-explicit-any
type Reply = any;

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

Deno.test("createClients() calls all four kinds on a static instance", async () => {
  await using backend = await startTestBackend("b1");
  await using clients = staticClients([backend]);
  const b = clients.get("demo.Backend");
  const reply: Reply = await b.echo({ text: "hi" });
  assert.deepEqual({ ...reply, deadlineMs: 0 }, { text: "hi", instance: "b1", deadlineMs: 0 });
  // No caller deadline: the dependency's default timeout (10 s) applies to unary calls.
  assert.ok(reply.deadlineMs > 9_000 && reply.deadlineMs <= 10_000, `${reply.deadlineMs}`);
  assert.equal(b.Echo, b.echo, "the proto name works too");
  const counted: Reply[] = await collect(b.count({ text: "n", count: 3 }));
  assert.deepEqual(counted.map((r) => r.text), ["n 1", "n 2", "n 3"]);
  async function* words() {
    yield { text: "a" };
    yield { text: "b" };
  }
  assert.equal((await b.join(words())).text, "a b");
  assert.equal((await b.join([{ text: "sync" }, { text: "iterable" }])).text, "sync iterable");
  const chatted: Reply[] = await collect(b.chat([{ text: "x" }, { text: "y" }]));
  assert.deepEqual(chatted.map((r) => r.text), ["x", "y"]);
});

Deno.test("timeout: 0 sends no deadline; streams get streamTimeout", async () => {
  await using backend = await startTestBackend("b1");
  {
    await using clients = staticClients([backend], { timeout: 0, streamTimeout: 0 });
    const reply: Reply = await clients.get("demo.Backend").echo({ text: "x" });
    assert.equal(reply.deadlineMs, -1);
  }
  {
    await using clients = staticClients([backend], { streamTimeout: 3_000 });
    const [first]: Reply[] = await collect(
      clients.get("demo.Backend").count({ text: "n", count: 1 }),
    );
    assert.ok(first.deadlineMs > 2_000 && first.deadlineMs <= 3_000, `${first.deadlineMs}`);
  }
});

Deno.test("createClients() balances round-robin, or sticks to the first with pick_first", async () => {
  await using b1 = await startTestBackend("b1");
  await using b2 = await startTestBackend("b2");
  {
    await using clients = staticClients([b1, b2]);
    for (let i = 0; i < 10; i++) await clients.get("demo.Backend").echo({ text: "x" });
    assert.deepEqual([b1.total(), b2.total()], [5, 5]);
  }
  {
    await using clients = staticClients([b1, b2], { balancing: "pick_first" });
    for (let i = 0; i < 4; i++) await clients.get("demo.Backend").echo({ text: "x" });
    const first = b1.address < b2.address ? b1 : b2;
    assert.equal(first.total(), 5 + 4);
  }
});

Deno.test("a remote error surfaces as RpcError with the remote code and message", async () => {
  await using backend = await startTestBackend("b1");
  await using clients = staticClients([backend]);
  await assert.rejects(
    clients.get("demo.Backend").echo({ text: `status:${Status.NOT_FOUND}` }),
    (e: unknown) =>
      e instanceof RpcError && e.code === Status.NOT_FOUND && e.message === "failed on b1",
  );
});

Deno.test("a killed instance: idempotent calls retry on another; others fail UNAVAILABLE", async () => {
  await using b1 = await startTestBackend("b1");
  await using b2 = await startTestBackend("b2");
  await using clients = staticClients([b1, b2]);
  const b = clients.get("demo.Backend");
  await b.echo({ text: "warm" });
  await b.echo({ text: "warm" });
  b1.kill();
  for (let i = 0; i < 20; i++) assert.equal((await b.echo({ text: "x" })).instance, "b2");
  // A retry is also allowed for a server stream before its first message.
  assert.equal((await collect(b.count({ text: "n", count: 2 }))).length, 2);
});

Deno.test("a non-idempotent call to a dead instance fails UNAVAILABLE, not retried", async () => {
  const dead = await startTestBackend("dead");
  dead.kill();
  await using clients = staticClients([dead]);
  await assert.rejects(
    clients.get("demo.Backend").join([{ text: "x" }]),
    (e: unknown) => e instanceof RpcError && e.code === Status.UNAVAILABLE,
  );
});

Deno.test("forCall() calls inherit the parent's deadline and cancellation", async () => {
  await using backend = await startTestBackend("b1");
  await using clients = staticClients([backend]);

  const parent = new AbortController();
  const bound = clients.forCall({ signal: parent.signal, deadline: Date.now() + 800 });
  const reply = await bound.get("demo.Backend").echo({ text: "x" }, {
    deadline: Date.now() + 5_000,
  });
  assert.ok(
    reply.deadlineMs > 500 && reply.deadlineMs <= 800,
    `backend saw ${reply.deadlineMs} ms`,
  );
  // An earlier per-call deadline wins over the parent's.
  const tighter = await bound.get("demo.Backend").echo({ text: "x" }, { timeoutMs: 300 });
  assert.ok(tighter.deadlineMs <= 300, `backend saw ${tighter.deadlineMs} ms`);

  await assert.rejects(
    bound.get("demo.Backend").echo({ text: "slow", sleepMs: 5_000 }),
    (e: unknown) => e instanceof RpcError && e.code === Status.DEADLINE_EXCEEDED,
  );

  const pending = clients.forCall({ signal: parent.signal, deadline: Infinity })
    .get("demo.Backend").echo({ text: "slow", sleepMs: 5_000 });
  setTimeout(() => parent.abort(), 100);
  await assert.rejects(
    pending,
    (e: unknown) => e instanceof RpcError && e.code === Status.CANCELLED,
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(backend.cancelled, 2, "the server saw the deadline and the cancel");
  await assert.rejects(
    bound.get("demo.Backend").echo({ text: "x" }),
    (e: unknown) => e instanceof RpcError && e.code === Status.CANCELLED,
    "an aborted parent fails new calls at once",
  );
});

Deno.test("get() names the declared dependencies when asked for another", async () => {
  await using backend = await startTestBackend("b1");
  await using clients = staticClients([backend]);
  assert.throws(
    () => clients.get("demo.Nope"),
    /Cannot call "demo.Nope": it is not a declared dependency \(declared: demo.Backend\)/,
  );
});

Deno.test("a request that does not fit its type fails before any call", async () => {
  await using backend = await startTestBackend("b1");
  await using clients = staticClients([backend]);
  await assert.rejects(
    clients.get("demo.Backend").echo({ text: 42 }),
    /Cannot call \/demo.Backend\/Echo: .*text/,
  );
  assert.equal(backend.total(), 0);
});

Deno.test("streams: breaking out cancels the call; a failing request source fails the call", async () => {
  await using backend = await startTestBackend("b1");
  await using clients = staticClients([backend]);
  const b = clients.get("demo.Backend");
  for await (const reply of b.count({ text: "n", count: 1_000 })) {
    assert.equal(reply.text, "n 1");
    break;
  }
  async function* broken() {
    yield { text: "a" };
    throw new Error("source broke");
  }
  await assert.rejects(b.join(broken()), /source broke/);
  await assert.rejects(collect(b.chat(broken())), /source broke/);
  // The channel is still good afterwards.
  assert.equal((await b.echo({ text: "after" })).text, "after");
});
