/**
 * The dependency client under real faults (issue 16): backends are real
 * `svc run` processes of tests/fixtures/faulty_backend, found through a
 * real etcd, failing a share of calls, healed by a signal, or frozen with
 * SIGSTOP; the caller is `createClients()` in this process. Attempts are
 * counted on the backends' side, so a retry or breaker that misbehaves
 * shows up in numbers the client cannot fake.
 */
import assert from "node:assert/strict";
import { Status } from "../runtime/core/errors.ts";
import type { Clients } from "../runtime/client/mod.ts";
import { BREAKER_DEFAULTS } from "../runtime/client/breaker.ts";
import { etcdMissing, startEtcd, waitFor } from "./_etcd.ts";
import {
  backendClients,
  SERVICE,
  startFaultyFleet,
  totalCalls,
} from "./fixtures/faulty_backend/fleet.ts";
import {
  byInstance,
  type Call,
  CallLoad,
  type CallRecord,
  percent,
  quantile,
  runCalls,
} from "./fixtures/faulty_backend/callers.ts";

const missing = await etcdMissing();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Policies off, so each test sees only the one it is about. */
const NO_BREAKER = { enabled: false, window: 2_000, k: 2, minRequests: 10 };
const NO_EJECTION = {
  enabled: false,
  interval: 10_000,
  baseEjectionTime: 30_000,
  maxEjectionTime: 300_000,
  maxEjectionPercent: 50,
  failurePercentage: 50,
  minimumHosts: 3,
  requestVolume: 20,
};
/** Throttling that never bites in these tests (tokens stay above half). */
const UNTHROTTLED = { maxTokens: 1_000, tokenRatio: 1 };

function echo(clients: Clients, timeoutMs = 5_000): Call {
  const backend = clients.get(SERVICE);
  return () => backend.echo({ text: "x" }, { timeoutMs });
}

function readings(clients: Clients) {
  return clients.readings.dependencies[0];
}

const isBreakerRejection = (r: CallRecord) => r.message.includes("circuit breaker");
const isBackendFailure = (r: CallRecord) => r.message.includes("faulty backend");

Deno.test({
  name:
    "circuit breaker: < 10% of calls reach a dependency failing every call, rejections take < 5 ms, and traffic returns within 5 s of healing",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    // INTERNAL: a dependency failure, but not retried, so one call is one attempt.
    await using fleet = await startFaultyFleet(etcd, [
      { name: "down", failPercent: 100, failCode: "INTERNAL" },
    ]);
    const down = fleet.backends[0];
    // The breaker with the config's defaults (breaker.ts keeps BREAKER_DEFAULTS equal to them).
    const circuitBreaker = {
      enabled: true,
      window: BREAKER_DEFAULTS.windowMs,
      k: BREAKER_DEFAULTS.k,
      minRequests: BREAKER_DEFAULTS.minRequests,
    };
    await using clients = await backendClients(etcd, { circuitBreaker }, 1);
    await using load = new CallLoad(echo(clients), { concurrency: 4, pauseMs: 5 });

    // The outage: wait for the breaker to shed, then give it 1 s to settle.
    const opened = await waitFor(
      "the first breaker rejection",
      () => load.records.find(isBreakerRejection),
      15_000,
    );
    const openedAfterMs = opened.start - load.records[0].start;
    await sleep(1_000);
    const from = performance.now();
    const before = await down.stats();
    await sleep(3_000);
    const to = performance.now();
    const after = await down.stats();
    const open = load.since(from).filter((r) => r.start < to);
    const reached = open.filter(isBackendFailure).length;
    const rejected = open.filter(isBreakerRejection);
    // Bound: fewer than 10% of the calls made while open reach the backend,
    // by the caller's count and by the backend's own.
    assert.ok(open.length >= 100, `only ${open.length} calls in 3 s`);
    const other = open.find((r) => !isBackendFailure(r) && !isBreakerRejection(r));
    assert.equal(other, undefined, "every call failed by the backend or by the breaker");
    assert.ok(reached < 0.1 * open.length, `${reached} of ${open.length} reached the backend`);
    const arrived = after.calls - before.calls;
    assert.ok(arrived < 0.1 * open.length, `backend saw ${arrived} of ${open.length} calls`);
    // Bound: rejected callers get UNAVAILABLE, p99 < 5 ms (no network round trip).
    assert.ok(rejected.every((r) => r.code === Status.UNAVAILABLE));
    const rejectP99 = quantile(rejected.map((r) => r.ms), 0.99);
    assert.ok(rejectP99 < 5, `rejections took ${rejectP99.toFixed(2)} ms at p99`);

    // Heal the backend (SIGUSR1), keep calling, and find when calls succeed again.
    const healStart = performance.now();
    await down.heal();
    // Bound: within 5 s of the signal, the last 500 ms of calls succeed > 90%.
    const recovered = await waitFor("> 90% of calls succeeding", () => {
      const recent = load.since(performance.now() - 500).filter((r) => r.start >= healStart);
      const ok = recent.filter((r) => r.code === 0).length;
      return recent.length >= 20 && ok > 0.9 * recent.length ? performance.now() : null;
    }, 5_000);
    // heal() waited for the process to confirm before the 5 s above began: bound from the signal.
    const recoveryMs = recovered - healStart;
    assert.ok(recoveryMs <= 5_000, `traffic back only ${recoveryMs.toFixed(0)} ms after healing`);
    // And it holds: over the next second > 90% succeed, and the backend saw them.
    const holdFrom = performance.now();
    const calledBefore = (await down.stats()).calls;
    await sleep(1_000);
    const holdTo = performance.now();
    const held = load.since(holdFrom).filter((r) => r.start < holdTo);
    const heldOk = held.filter((r) => r.code === 0).length;
    assert.ok(heldOk > 0.9 * held.length, `${heldOk} of ${held.length} succeeded after recovery`);
    const calledAfter = (await down.stats()).calls;
    assert.ok(calledAfter - calledBefore >= heldOk - 4, "the successes came from the backend");

    await load.stop();
    // No rejected call ever reached the network: the backend saw exactly the
    // calls that got its own answer (the stats probe is not counted).
    const answered = load.records.filter((r) => r.code === 0 || isBackendFailure(r)).length;
    assert.equal((await down.stats()).calls, answered);
    console.log(
      `breaker: opened ${openedAfterMs.toFixed(0)} ms into the outage; while open ` +
        `${reached}/${open.length} calls (${percent(reached, open.length)}) reached the ` +
        `backend (it counted ${arrived}); rejection p99 ${rejectP99.toFixed(3)} ms over ` +
        `${rejected.length}; traffic back ${recoveryMs.toFixed(0)} ms after healing; ` +
        `${percent(heldOk, held.length)} OK in the next second`,
    );
  },
});

Deno.test({
  name:
    "retries at 50% failures stay within gRFC A6's throttling bound, which unthrottled retries exceed",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    await using fleet = await startFaultyFleet(etcd, [
      { name: "flaky1", failPercent: 50 },
      { name: "flaky2", failPercent: 50 },
    ]);
    const N = 300;
    const retry = {
      maxAttempts: 3,
      initialBackoff: 2,
      maxBackoff: 10,
      backoffMultiplier: 2,
      retryableStatusCodes: ["UNAVAILABLE" as const],
    };
    const throttling = { maxTokens: 10, tokenRatio: 0.1 };
    // retry_throttle.ts: A ≤ (N + maxTokens/2) / (1 − tokenRatio) = 339 for N = 300.
    const bound = (N + throttling.maxTokens / 2) / (1 - throttling.tokenRatio);
    const policies = { retry, circuitBreaker: NO_BREAKER, outlierDetection: NO_EJECTION };

    const attempts = async (retryThrottling: typeof throttling) => {
      await using clients = await backendClients(etcd, { ...policies, retryThrottling }, 2);
      const start = await totalCalls(fleet.backends);
      const records = await runCalls(echo(clients), N, 4);
      const made = (await totalCalls(fleet.backends)) - start;
      const ok = records.filter((r) => r.code === 0).length;
      return {
        made,
        ok,
        retries: readings(clients).retries,
        throttled: readings(clients).retriesThrottled,
      };
    };
    const throttled = await attempts(throttling);
    const free = await attempts(UNTHROTTLED);
    console.log(
      `retry budget: N=${N}, bound ${bound.toFixed(0)}; throttled: ${throttled.made} attempts ` +
        `(${throttled.retries} retries, ${throttled.throttled} refused), ${throttled.ok} OK; ` +
        `unthrottled: ${free.made} attempts, ${free.ok} OK (expected ~${1.75 * N})`,
    );
    // Bound: attempts counted by the backends ≤ (N + maxTokens/2) / (1 − tokenRatio).
    assert.ok(throttled.made <= bound, `${throttled.made} attempts > bound ${bound.toFixed(1)}`);
    assert.equal(throttled.made, N + throttled.retries, "backends saw every attempt, no more");
    // The same calls without throttling: ~1.75 N attempts, well over the bound.
    assert.ok(free.made > bound, `unthrottled made ${free.made} ≤ ${bound.toFixed(1)}`);
    assert.ok(free.made >= 1.5 * N, `unthrottled made only ${free.made}`);
    // Retries bought successes: ~87.5% OK with them, ~50% without.
    assert.ok(free.ok > 0.8 * N, `${free.ok} of ${N} OK with retries`);
  },
});

Deno.test({
  name:
    "an UNAVAILABLE instance costs idempotent callers nothing: every call succeeds on the other",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    await using fleet = await startFaultyFleet(etcd, [
      { name: "bad", failPercent: 100 },
      { name: "good" },
    ]);
    // Default policies: Echo is NO_SIDE_EFFECTS, so it gets the default retry policy.
    await using clients = await backendClients(etcd, {}, 2);
    await using load = new CallLoad(echo(clients), { concurrency: 4, pauseMs: 10 });
    // 3.5 s, so the bad instance's "down" mark (1 s, then 2 s) expires twice
    // and it is tried again each time.
    await sleep(3_500);
    await load.stop();
    const bad = await fleet.byName("bad").stats();
    const counts = byInstance(load.records);
    console.log(
      `failover: ${load.records.length} calls, ${JSON.stringify(counts)}; bad instance got ` +
        `${bad.calls} attempts, client retried ${readings(clients).retries}`,
    );
    assert.deepEqual(
      Object.keys(counts),
      ["good"],
      JSON.stringify(load.records.find((r) => r.code)),
    );
    // It did fail attempts (else the test shows nothing), and each was retried.
    assert.ok(bad.calls >= 1, "the bad instance was never tried");
    assert.equal(bad.failed, bad.calls);
    assert.ok(readings(clients).retries >= bad.calls, "a failed attempt was not retried");
  },
});

Deno.test({
  name:
    "grpc-retry-pushback-ms: a negative value stops retries, a positive one replaces the backoff",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    // Two fleets under two prefixes: each dependency client sees one instance.
    await using fleet = await startFaultyFleet(etcd, [
      { name: "stop", failPercent: 100, pushbackMs: -1, prefix: "stop" },
      { name: "wait", failPercent: 100, pushbackMs: 250, prefix: "wait" },
    ]);
    const policies = {
      retry: {
        maxAttempts: 3,
        initialBackoff: 1,
        maxBackoff: 5,
        backoffMultiplier: 2,
        retryableStatusCodes: ["UNAVAILABLE" as const],
      },
      retryThrottling: UNTHROTTLED,
      circuitBreaker: NO_BREAKER,
      outlierDetection: NO_EJECTION,
    };
    const N = 6;
    await using stopClients = await backendClients(etcd, policies, 1, { prefix: "stop" });
    const stopped = await runCalls(echo(stopClients), N, 2);
    await using waitClients = await backendClients(etcd, policies, 1, { prefix: "wait" });
    const waited = await runCalls(echo(waitClients), N, N);
    const stopCalls = (await fleet.byName("stop").stats()).calls;
    const waitCalls = (await fleet.byName("wait").stats()).calls;
    const shortest = Math.min(...waited.map((r) => r.ms));
    console.log(
      `pushback: -1 → ${stopCalls} attempts for ${N} calls; 250 ms → ${waitCalls} attempts, ` +
        `shortest call ${shortest.toFixed(0)} ms`,
    );
    assert.ok([...stopped, ...waited].every((r) => r.code === Status.UNAVAILABLE));
    // Bound: -1 → exactly 1 attempt per call although maxAttempts is 3.
    assert.equal(stopCalls, N);
    // Bound: 250 → all 3 attempts, and each call waited 2 × 250 ms (the backoff alone is ≤ 5 ms).
    assert.equal(waitCalls, 3 * N);
    assert.ok(shortest >= 480, `a call took only ${shortest.toFixed(0)} ms`);
  },
});

Deno.test({
  name:
    "a frozen (SIGSTOP) instance: callers with a deadline never hang, the others keep serving, and ejection takes it out",
  ignore: missing !== null,
  async fn() {
    await using etcd = await startEtcd();
    await using fleet = await startFaultyFleet(etcd, [
      { name: "a" },
      { name: "b" },
      { name: "frozen" },
    ]);
    const frozen = fleet.byName("frozen");
    const DEADLINE_MS = 1_000;
    await using clients = await backendClients(etcd, {
      // About a third of attempts time out while it is frozen, close to where
      // the breaker starts shedding; off, so only the deadline and ejection act.
      circuitBreaker: NO_BREAKER,
      outlierDetection: {
        ...NO_EJECTION,
        enabled: true,
        interval: 1_000,
        baseEjectionTime: 30_000,
        requestVolume: 3,
      },
    }, 3);
    await using load = new CallLoad(echo(clients, DEADLINE_MS), { concurrency: 6, pauseMs: 5 });
    await waitFor("calls on all 3", () => Object.keys(byInstance(load.records)).length === 3);
    const frozenAt = performance.now();
    frozen.freeze();
    try {
      // Bound on every wait below: no call in flight is older than deadline + 500 ms.
      let oldest = 0;
      const ejected = await waitFor("the frozen instance ejected", () => {
        oldest = Math.max(oldest, load.oldestInFlightMs());
        return readings(clients).ejectedInstances === 1 ? performance.now() : null;
      }, 10_000);
      const settle = performance.now() + 1_500;
      while (performance.now() < settle) {
        oldest = Math.max(oldest, load.oldestInFlightMs());
        await sleep(50);
      }
      const during = load.since(frozenAt);
      const tail = load.since(performance.now() - 1_000);
      const longest = Math.max(oldest, ...during.map((r) => r.ms));
      const counts = byInstance(during);
      const timedOut = during.filter((r) => r.code === Status.DEADLINE_EXCEEDED).length;
      const tailOk = tail.filter((r) => r.code === 0).length;
      console.log(
        `frozen: ${during.length} calls while frozen, ${JSON.stringify(counts)}; ` +
          `${timedOut} DEADLINE_EXCEEDED; longest ${longest.toFixed(0)} ms; ejected ` +
          `${(ejected - frozenAt).toFixed(0)} ms after SIGSTOP; last second ` +
          `${percent(tailOk, tail.length)} OK`,
      );
      // Bound: no call outlives its 1 s deadline by more than 500 ms.
      assert.ok(longest <= DEADLINE_MS + 500, `a call took ${longest.toFixed(0)} ms`);
      // The others kept serving, and the frozen one's calls failed by deadline.
      assert.ok((counts.a ?? 0) >= 20 && (counts.b ?? 0) >= 20, JSON.stringify(counts));
      assert.equal(counts.frozen, undefined);
      assert.ok(timedOut >= 1, "no call waited on the frozen instance");
      assert.ok(during.every((r) => r.code === 0 || r.code === Status.DEADLINE_EXCEEDED));
      // Once ejected, calls succeed: > 99% over the last second.
      assert.ok(tailOk > 0.99 * tail.length, `${tailOk} of ${tail.length} OK once ejected`);
    } finally {
      frozen.thaw();
    }
  },
});
