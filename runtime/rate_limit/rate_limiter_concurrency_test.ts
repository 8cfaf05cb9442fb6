import assert from "node:assert/strict";
import { RpcError, Status } from "../core/errors.ts";
import type { ServerCall } from "../core/context.ts";
import { fakeCall, limits } from "./_testing.ts";
import { createRateLimiter, type RateLimitName } from "./rate_limiter.ts";

/**
 * A limiter over a slow handler: each admitted call waits until the test
 * ends it with finish(), fail() or by aborting its signal.
 */
function setup(config = limits()) {
  const rejected: RateLimitName[] = [];
  const running = new Map<ServerCall, PromiseWithResolvers<void>>();
  const interceptor = createRateLimiter(config, {
    exempt: (call) => call.service === "grpc.health.v1.Health",
    onReject: (limit) => rejected.push(limit),
  });
  assert.ok(interceptor);
  const handler = interceptor(function slow(call) {
    const done = Promise.withResolvers<void>();
    running.set(call, done);
    call.signal.addEventListener("abort", () => done.reject(call.signal.reason), { once: true });
    return done.promise.finally(() => running.delete(call));
  });
  /** Starts a call; `result` settles to "ok" or the error. */
  const start = (method: string) => {
    const controller = new AbortController();
    const call = fakeCall(method, { signal: controller.signal });
    const result = handler(call).then(() => "ok" as const, (e: unknown) => e);
    return { call, controller, result, admitted: () => running.has(call) };
  };
  return { rejected, running, start };
}

Deno.test("createRateLimiter() maxConcurrent.global rejects at start and frees on success", async () => {
  const { start, running, rejected } = setup(limits({ maxConcurrent: { global: 2 } }));
  const a = start("/pkg.S/A");
  const b = start("/pkg.S/B");
  const c = start("/pkg.S/C");
  assert.equal(running.size, 2);
  assert.equal(c.admitted(), false);
  const error = await c.result;
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, Status.RESOURCE_EXHAUSTED);
  assert.equal(error.message, `concurrency limit "global" reached (2 in flight)`);
  assert.deepEqual(rejected, ["maxConcurrent.global"]);

  running.get(a.call)!.resolve();
  assert.equal(await a.result, "ok");
  const d = start("/pkg.S/D");
  assert.equal(d.admitted(), true, "a's slot was released");
  running.get(b.call)!.resolve();
  running.get(d.call)!.resolve();
  await Promise.all([b.result, d.result]);
});

Deno.test("createRateLimiter() releases the slot after an error and after cancellation", async () => {
  const { start, running } = setup(limits({ maxConcurrent: { global: 1 } }));
  const a = start("/pkg.S/A");
  running.get(a.call)!.reject(new RpcError(Status.INTERNAL, "boom"));
  assert.equal((await a.result as RpcError).message, "boom");

  const b = start("/pkg.S/B");
  assert.equal(b.admitted(), true, "slot freed after the error");
  b.controller.abort(new DOMException("client went away", "AbortError"));
  assert.equal((await b.result as DOMException).name, "AbortError");

  const c = start("/pkg.S/C");
  assert.equal(c.admitted(), true, "slot freed after cancellation");
  running.get(c.call)!.resolve();
  assert.equal(await c.result, "ok");
});

Deno.test("createRateLimiter() maxConcurrent.perMethod caps each method; service keys share", async () => {
  const { start, running, rejected } = setup(limits({
    maxConcurrent: { perMethod: { "/pkg.S/A": 1, "pkg.T": 1 } },
  }));
  const a1 = start("/pkg.S/A");
  const a2 = start("/pkg.S/A");
  const b = start("/pkg.S/B");
  const t1 = start("/pkg.T/X");
  const t2 = start("/pkg.T/Y");
  assert.deepEqual([a1, a2, b, t1, t2].map((c) => c.admitted()), [true, false, true, true, false]);
  assert.equal(
    (await a2.result as RpcError).message,
    `concurrency limit "perMethod /pkg.S/A" reached (1 in flight)`,
  );
  assert.equal(
    (await t2.result as RpcError).message,
    `concurrency limit "perMethod pkg.T" reached (1 in flight)`,
  );
  assert.deepEqual(rejected, ["maxConcurrent.perMethod", "maxConcurrent.perMethod"]);
  for (const done of running.values()) done.resolve();
  await Promise.all([a1.result, b.result, t1.result]);
});

Deno.test("createRateLimiter() a call refused by its method cap holds no global slot", async () => {
  const { start, running, rejected } = setup(limits({
    maxConcurrent: { global: 2, perMethod: { "/pkg.S/A": 1 } },
  }));
  const a1 = start("/pkg.S/A");
  const a2 = start("/pkg.S/A");
  await a2.result;
  const b = start("/pkg.S/B");
  assert.equal(b.admitted(), true, "a2 did not keep a global slot");
  const c = start("/pkg.S/C");
  await c.result;
  assert.deepEqual(rejected, ["maxConcurrent.perMethod", "maxConcurrent.global"]);
  for (const done of running.values()) done.resolve();
  await Promise.all([a1.result, b.result]);
});

Deno.test("createRateLimiter() a call refused by concurrency takes no token", async () => {
  const { start, running, rejected } = setup(limits({
    global: { rate: 1, burst: 2 },
    maxConcurrent: { global: 1 },
  }));
  const a = start("/pkg.S/A");
  for (let i = 0; i < 3; i++) await start("/pkg.S/A").result;
  running.get(a.call)!.resolve();
  await a.result;
  const b = start("/pkg.S/B");
  assert.equal(b.admitted(), true, "the second token is still there");
  running.get(b.call)!.resolve();
  await b.result;
  assert.deepEqual(rejected, Array(3).fill("maxConcurrent.global"));
});

Deno.test("createRateLimiter() exempt calls neither wait for nor hold a slot", async () => {
  const { start, running } = setup(limits({ maxConcurrent: { global: 1 } }));
  const a = start("/pkg.S/A");
  const health = start("/grpc.health.v1.Health/Check");
  assert.equal(health.admitted(), true, "admitted past a full cap");
  running.get(a.call)!.resolve();
  await a.result;
  const b = start("/pkg.S/B");
  assert.equal(b.admitted(), true, "the health call holds no slot");
  for (const done of running.values()) done.resolve();
  await Promise.all([health.result, b.result]);
});
