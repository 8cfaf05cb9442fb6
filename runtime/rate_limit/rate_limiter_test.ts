import assert from "node:assert/strict";
import { RpcError, Status } from "../core/errors.ts";
import type { ServerCall } from "../core/context.ts";
import type { CallHandler } from "../core/interceptor.ts";
import { fakeCall, type FakeCallInit, FakeClock, limits } from "./_testing.ts";
import { createRateLimiter, type RateLimiterOptions, type RateLimitName } from "./rate_limiter.ts";

const ok: CallHandler = () => Promise.resolve();

/** A limiter over a handler that always succeeds, recording rejections. */
function setup(config = limits(), options: Partial<RateLimiterOptions> = {}) {
  const clock = new FakeClock();
  const rejected: [RateLimitName, string][] = [];
  const interceptor = createRateLimiter(config, {
    exempt: () => false,
    onReject: (limit, call) => rejected.push([limit, call.method]),
    clock: clock.now,
    ...options,
  });
  assert.ok(interceptor, "limiter configured");
  const handler = interceptor(ok);
  /** Runs one call; resolves to "ok" or the rejection's RpcError. */
  const call = (method: string, init?: FakeCallInit) =>
    handler(fakeCall(method, init)).then(() => "ok" as const, (e: RpcError) => e);
  /** How many of `n` calls pass. */
  const passed = async (n: number, method: string, init?: FakeCallInit) => {
    let count = 0;
    for (let i = 0; i < n; i++) if (await call(method, init) === "ok") count++;
    return count;
  };
  return { clock, rejected, call, passed };
}

Deno.test("createRateLimiter() returns null when no limit is configured", () => {
  assert.equal(createRateLimiter(limits(), { exempt: () => false }), null);
});

Deno.test("createRateLimiter() global bucket admits burst, then RESOURCE_EXHAUSTED with a hint", async () => {
  const { call, passed, rejected } = setup(limits({ global: { rate: 10, burst: 5 } }));
  assert.equal(await passed(5, "/pkg.S/A"), 5);
  const error = await call("/pkg.S/B");
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, Status.RESOURCE_EXHAUSTED);
  assert.equal(error.message, `rate limit "global" exceeded (10/s, burst 5); retry after 100ms`);
  assert.deepEqual(error.metadata, { "retry-after-ms": "100" });
  assert.deepEqual(rejected, [["global", "/pkg.S/B"]]);
});

Deno.test("createRateLimiter() admits about burst + rate of 3×rate calls over one second", async () => {
  const { clock, call } = setup(limits({ global: { rate: 20, burst: 10 } }));
  let count = 0;
  for (let i = 0; i < 60; i++) {
    if (await call("/pkg.S/M") === "ok") count++;
    clock.advance(1000 / 60);
  }
  assert.ok(Math.abs(count - 30) <= 1, `${count} passed, expected 30 ± 1`);
});

Deno.test("createRateLimiter() perMethod buckets are isolated per method", async () => {
  const { call, passed, rejected } = setup(limits({
    perMethod: { "/pkg.S/A": { rate: 10, burst: 2 }, "/pkg.S/B": { rate: 10, burst: 2 } },
  }));
  assert.equal(await passed(3, "/pkg.S/A"), 2);
  assert.equal(await passed(2, "/pkg.S/B"), 2, "B unaffected by A");
  assert.equal(await passed(5, "/pkg.S/C"), 5, "C has no limit");
  const error = await call("/pkg.S/A") as RpcError;
  assert.equal(
    error.message,
    `rate limit "perMethod /pkg.S/A" exceeded (10/s, burst 2); retry after 100ms`,
  );
  assert.deepEqual(rejected, [["perMethod", "/pkg.S/A"], ["perMethod", "/pkg.S/A"]]);
});

Deno.test("createRateLimiter() a service key is one bucket for all its methods", async () => {
  const { call, passed } = setup(limits({ perMethod: { "pkg.S": { rate: 1, burst: 3 } } }));
  assert.equal(await passed(2, "/pkg.S/A"), 2);
  assert.equal(await passed(2, "/pkg.S/B"), 1, "B shares A's bucket");
  const error = await call("/pkg.S/C") as RpcError;
  assert.match(error.message, /^rate limit "perMethod pkg\.S" exceeded \(1\/s, burst 3\)/);
  assert.equal(await passed(3, "/pkg.Other/A"), 3, "other services unaffected");
});

Deno.test("createRateLimiter() a full method path wins over its service", async () => {
  const { passed } = setup(limits({
    perMethod: { "pkg.S": { rate: 1, burst: 1 }, "/pkg.S/Hot": { rate: 1, burst: 4 } },
  }));
  assert.equal(await passed(5, "/pkg.S/Hot"), 4);
  assert.equal(await passed(2, "/pkg.S/Cold"), 1, "the service bucket is untouched by Hot");
});

Deno.test("createRateLimiter() perKey by header isolates callers; no header shares one bucket", async () => {
  const { call, passed, rejected } = setup(limits({
    perKey: { key: "header:x-api-key", rate: 1, burst: 2, maxKeys: 100 },
  }));
  const a = { metadata: { "x-api-key": "alice" } };
  const b = { metadata: { "x-api-key": "bob" } };
  assert.equal(await passed(3, "/pkg.S/M", a), 2);
  assert.equal(await passed(3, "/pkg.S/M", b), 2, "bob has his own bucket");
  assert.equal(await passed(3, "/pkg.S/M"), 2, "anonymous callers share one bucket");
  assert.equal(await passed(1, "/pkg.S/M", { peer: "10.9.9.9:1" }), 0, "still anonymous");
  const error = await call("/pkg.S/M", a) as RpcError;
  assert.equal(
    error.message,
    `rate limit "perKey header:x-api-key" exceeded (1/s, burst 2); retry after 1000ms`,
  );
  assert.ok(!error.message.includes("alice"), "the key itself is not echoed");
  assert.ok(rejected.every(([limit]) => limit === "perKey"));
});

Deno.test("createRateLimiter() perKey by peer keys on the IP, whatever the port", async () => {
  const { passed } = setup(limits({ perKey: { key: "peer", rate: 1, burst: 2, maxKeys: 100 } }));
  assert.equal(await passed(1, "/pkg.S/M", { peer: "10.0.0.1:1000" }), 1);
  assert.equal(await passed(2, "/pkg.S/M", { peer: "10.0.0.1:2000" }), 1, "same IP, new port");
  assert.equal(await passed(2, "/pkg.S/M", { peer: "10.0.0.2:1000" }), 2, "other IP");
  assert.equal(await passed(1, "/pkg.S/M", { peer: "[::1]:1" }), 1);
  assert.equal(await passed(2, "/pkg.S/M", { peer: "[::1]:2" }), 1, "IPv6, new port");
});

Deno.test("createRateLimiter() perKey keeps at most maxKeys buckets, evicting the oldest", async () => {
  const { passed } = setup(limits({ perKey: { key: "peer", rate: 1, burst: 1, maxKeys: 2 } }));
  const peer = (n: number) => ({ peer: `10.0.0.${n}:1` });
  assert.equal(await passed(1, "/pkg.S/M", peer(1)), 1);
  assert.equal(await passed(1, "/pkg.S/M", peer(2)), 1);
  assert.equal(await passed(1, "/pkg.S/M", peer(2)), 0, "2 is empty and stays kept");
  assert.equal(await passed(1, "/pkg.S/M", peer(3)), 1, "3 evicts 1");
  assert.equal(await passed(1, "/pkg.S/M", peer(1)), 1, "1 was forgotten: a fresh bucket");
  assert.equal(await passed(1, "/pkg.S/M", peer(3)), 0, "3 is still kept");
});

Deno.test("createRateLimiter() a rejected call takes no token from earlier buckets", async () => {
  const { passed, rejected } = setup(limits({
    global: { rate: 1, burst: 3 },
    perMethod: { "/pkg.S/A": { rate: 1, burst: 1 } },
  }));
  assert.equal(await passed(3, "/pkg.S/A"), 1);
  assert.equal(await passed(3, "/pkg.S/B"), 2, "A's two rejections cost the global bucket nothing");
  assert.deepEqual(rejected.map(([l]) => l), ["perMethod", "perMethod", "global"]);
});

Deno.test("createRateLimiter() checks global, then method, then caller buckets", async () => {
  const { call, rejected } = setup(limits({
    global: { rate: 1, burst: 2 },
    perMethod: { "pkg.S": { rate: 1, burst: 1 } },
    perKey: { key: "peer", rate: 1, burst: 1, maxKeys: 10 },
  }));
  const peer = (ip: string) => ({ peer: `${ip}:1` });
  assert.equal(await call("/pkg.S/M", peer("10.0.0.1")), "ok");
  assert.notEqual(await call("/pkg.S/M", peer("10.0.0.2")), "ok", "method empty");
  assert.notEqual(await call("/pkg.T/M", peer("10.0.0.1")), "ok", "caller empty");
  assert.equal(await call("/pkg.T/M", peer("10.0.0.3")), "ok", "rejections left global a token");
  assert.notEqual(await call("/pkg.S/M", peer("10.0.0.1")), "ok", "all empty: global named");
  assert.deepEqual(rejected.map(([l]) => l), ["perMethod", "perKey", "global"]);
});

Deno.test("createRateLimiter() buckets refill with time", async () => {
  const { clock, passed } = setup(limits({ perMethod: { "/pkg.S/A": { rate: 2, burst: 1 } } }));
  assert.equal(await passed(2, "/pkg.S/A"), 1);
  clock.advance(499);
  assert.equal(await passed(1, "/pkg.S/A"), 0);
  clock.advance(1);
  assert.equal(await passed(1, "/pkg.S/A"), 1);
});

Deno.test("createRateLimiter() exempt calls skip every limit, asked once per method", async () => {
  const asked: string[] = [];
  const exempt = (call: ServerCall) => {
    asked.push(call.method);
    return call.service === "grpc.health.v1.Health";
  };
  const { passed } = setup(limits({ global: { rate: 1, burst: 1 } }), { exempt });
  assert.equal(await passed(5, "/grpc.health.v1.Health/Check"), 5);
  assert.equal(await passed(2, "/pkg.S/A"), 1);
  assert.equal(await passed(1, "/grpc.health.v1.Health/Check"), 1, "exempt even when exhausted");
  assert.deepEqual(asked, ["/grpc.health.v1.Health/Check", "/pkg.S/A"]);
});

Deno.test("createRateLimiter() passes handler errors through untouched", async () => {
  const boom = new RpcError(Status.NOT_FOUND, "no such thing");
  const interceptor = createRateLimiter(limits({ global: { rate: 1, burst: 5 } }), {
    exempt: () => false,
  })!;
  const handler = interceptor(() => Promise.reject(boom));
  await assert.rejects(handler(fakeCall("/pkg.S/M")), (e) => e === boom);
});
