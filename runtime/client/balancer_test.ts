import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Status } from "../core/errors.ts";
import { InstancePool } from "./balancer.ts";

/** Clients that record being closed; none ever connects. */
function fakes() {
  const closed: string[] = [];
  const made: string[] = [];
  const factory = (address: string) => {
    made.push(address);
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const close = client.close.bind(client);
    client.close = () => {
      closed.push(address);
      close();
    };
    return client;
  };
  return { factory, closed, made };
}

Deno.test("InstancePool.pick() goes round-robin and skips an instance marked down", () => {
  const { factory } = fakes();
  const pool = new InstancePool(factory);
  try {
    pool.update(["b:1", "a:1", "c:1"]);
    assert.deepEqual(pool.addresses, ["a:1", "b:1", "c:1"]);
    const picks = Array.from({ length: 6 }, () => pool.pick()!.address);
    assert.deepEqual(picks, ["a:1", "b:1", "c:1", "a:1", "b:1", "c:1"]);

    const a = pool.pick()!; // the 7th pick: a:1 again
    assert.equal(a.address, "a:1");
    pool.acquire(a);
    pool.release(a, Status.UNAVAILABLE, 1);
    const after = Array.from({ length: 4 }, () => pool.pick()!.address);
    assert.ok(!after.includes("a:1"), `a:1 is down: ${after}`);
    // With `avoid`, a retry goes elsewhere; with only that one left, to it.
    const c = pool.pick()!;
    assert.notEqual(pool.pick(c)!.address, c.address);
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool round_robin splits evenly over the instances left while one is down", () => {
  const { factory } = fakes();
  const pool = new InstancePool(factory);
  try {
    pool.update(["a:1", "b:1", "c:1"]);
    const b = pool.pick()!.address === "a:1" ? pool.pick()! : null;
    assert.equal(b?.address, "b:1");
    pool.acquire(b!);
    pool.release(b!, Status.UNAVAILABLE, 1);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const address = pool.pick()!.address;
      counts[address] = (counts[address] ?? 0) + 1;
    }
    assert.deepEqual(counts, { "a:1": 150, "c:1": 150 });
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool pick_first sticks to the first healthy instance", () => {
  const { factory } = fakes();
  const pool = new InstancePool(factory, { balancing: "pick_first" });
  try {
    pool.update(["a:1", "b:1"]);
    assert.deepEqual([pool.pick()!.address, pool.pick()!.address], ["a:1", "a:1"]);
    const a = pool.pick()!;
    pool.acquire(a);
    pool.release(a, Status.UNAVAILABLE, 1);
    assert.equal(pool.pick()!.address, "b:1");
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool closes a removed instance's channel after its last call", () => {
  const { factory, closed, made } = fakes();
  const pool = new InstancePool(factory);
  try {
    pool.update(["a:1", "b:1"]);
    const a = pool.pick()!;
    void a.client; // the channel is made on first use
    pool.acquire(a);
    pool.update(["b:1", "c:1"]);
    assert.deepEqual(closed, [], "a call is still in flight on a:1");
    pool.release(a, Status.OK, 1);
    assert.deepEqual(closed, ["a:1"]);
    assert.deepEqual(pool.addresses, ["b:1", "c:1"]);
    assert.deepEqual(made, ["a:1"], "channels are made lazily");
    assert.equal(new InstancePool(factory).pick(), undefined);
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool marks an UNAVAILABLE instance down for 1 s, doubling per failure in a row", () => {
  const { factory } = fakes();
  let now = 0;
  const pool = new InstancePool(factory, { balancing: "pick_first", now: () => now });
  try {
    pool.update(["a:1", "b:1"]);
    const a = pool.pick()!;
    const fail = (code: Status) => {
      pool.acquire(a);
      pool.release(a, code, 1);
    };
    fail(Status.UNAVAILABLE);
    now = 999;
    assert.equal(pool.pick()!.address, "b:1", "down for 1 s");
    now = 1_000;
    assert.equal(pool.pick()!.address, "a:1", "back after 1 s");
    fail(Status.UNAVAILABLE); // the second in a row: 2 s
    now = 2_999;
    assert.equal(pool.pick()!.address, "b:1");
    now = 3_000;
    assert.equal(pool.pick()!.address, "a:1");
    // Other failures neither mark it down nor end the streak; OK does.
    fail(Status.INTERNAL);
    assert.equal(pool.pick()!.address, "a:1");
    fail(Status.OK);
    fail(Status.UNAVAILABLE);
    now = 3_999;
    assert.equal(pool.pick()!.address, "b:1", "the streak started over: 1 s again");
    now = 4_000;
    assert.equal(pool.pick()!.address, "a:1");
  } finally {
    pool.close();
  }
});

Deno.test("InstancePool.size counts instances; no outlier options means no ejections", () => {
  const { factory } = fakes();
  const pool = new InstancePool(factory);
  try {
    assert.equal(pool.size, 0);
    pool.update(["a:1", "b:1", "c:1"]);
    assert.equal(pool.size, 3);
    for (let i = 0; i < 100; i++) {
      const instance = pool.pick()!;
      pool.acquire(instance);
      pool.release(instance, Status.INTERNAL, 1);
    }
    assert.deepEqual([pool.ejectedCount, pool.ejections], [0, 0]);
    pool.update(["a:1"]);
    assert.equal(pool.size, 1);
  } finally {
    pool.close();
  }
});
