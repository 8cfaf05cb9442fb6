/**
 * The overload load test: offered three times what one process serves,
 * with 500 ms deadlines, does svc keep serving? Run alone by
 * `deno task test:load` (not in the parallel suite: it measures the
 * machine's capacity, and another test file running beside it would change
 * the answer). `.ci/run` runs it after the suite.
 *
 * The load comes from grpc-go (tests/go/overload_load/main.go), open loop
 * over four connections; a fifth connection times health Checks every
 * 100 ms. Each run prints its numbers; docs/overload.md quotes them.
 *
 * 1. Capacity: eight callers back to back against a process without
 *    `overload`, 3 s. The handler burns 1 ms of CPU per call.
 * 2. Without `overload`: 3 × capacity for 6 s. Recorded, not judged.
 * 3. With `overload` (a new process): 3 × capacity for 6 s, then 0.5 ×
 *    capacity for 5 s. Goodput (calls answered OK within their deadline,
 *    per second) ≥ 80% of capacity; p99 of the admitted calls under the
 *    deadline; every health Check, and every GET /readyz on the admin port,
 *    answered within 1 s; no call shed in the
 *    last 3 s at half capacity; /metrics counts the shed calls and passes
 *    promtool.
 * 4. The same with a handler that awaits 5 ms before it computes (the
 *    concurrency rule's case), judged the same way.
 */
import assert from "node:assert/strict";
import { buildGo, goMissing } from "../_go.ts";
import { startSvc } from "../_harness.ts";
import { watchAdmin } from "../_load_watch.ts";
import { parseExposition, promtoolCheck, valueOf } from "../../runtime/metrics/_exposition.ts";

const CONFIG = "tests/fixtures/overload/svc.yaml";
const METHOD = "/load.Work/Burn";
const DEADLINE_MS = 500;

const missing = await goMissing([
  "google.golang.org/grpc",
  "google.golang.org/grpc/health/grpc_health_v1",
]);
if (missing) console.log(`overload load test: skipped: ${missing}`);

interface Phase {
  mode: string;
  rate: number;
  seconds: number;
  issued: number;
  ok: number;
  goodput: number;
  codes: Record<string, number>;
  okP50Ms: number;
  okP99Ms: number;
  allP99Ms: number;
  unavailableBySecond: number[];
}

interface Health {
  checks: number;
  failures: number;
  maxMs: number;
  lastError: string;
}

/** Runs the Go load generator; bounded by the phases plus 30 s. */
async function load(
  binary: string,
  port: number,
  args: string[],
  boundSeconds: number,
): Promise<{ phases: Phase[]; health: Health }> {
  const { code, stdout, stderr } = await new Deno.Command(binary, {
    args: [
      "-addr",
      `127.0.0.1:${port}`,
      "-method",
      METHOD,
      "-deadline",
      `${DEADLINE_MS}ms`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((boundSeconds + 30) * 1000),
  }).output();
  const text = new TextDecoder();
  assert.equal(code, 0, text.decode(stderr));
  const lines = text.decode(stdout).trim().split("\n").map((line) => JSON.parse(line));
  return { phases: lines.slice(0, -1), health: lines[lines.length - 1] };
}

function describe(label: string, phase: Phase): string {
  const codes = Object.entries(phase.codes).map(([c, n]) => `${c} ${n}`).join(", ");
  return `${label}: offered ${phase.rate || "closed loop"}/s for ${phase.seconds.toFixed(1)} s; ` +
    `goodput ${phase.goodput.toFixed(0)}/s; OK p50 ${phase.okP50Ms.toFixed(1)} ms, ` +
    `p99 ${phase.okP99Ms.toFixed(1)} ms; ${codes}`;
}

/** The process's capacity and what it does at 3 × that without `overload`. */
async function withoutOverload(binary: string, extra: string[], callers: number) {
  await using svc = await startSvc({ config: CONFIG });
  const closed = ["-closed", String(callers), "-duration", "3s", ...extra];
  const capacity = (await load(binary, svc.port, closed, 3)).phases[0];
  const rate = Math.round(capacity.goodput * 3);
  const flood = await load(binary, svc.port, ["-phases", `${rate}:6s`, ...extra], 6);
  return { capacity, flood: flood.phases[0], health: flood.health };
}

async function withOverload(binary: string, capacity: number, extra: string[]) {
  await using svc = await startSvc({ config: CONFIG, env: { SVC_OVERLOAD_ENABLED: "true" } });
  const heavy = Math.round(capacity * 3), light = Math.round(capacity / 2);
  const stopAdmin = watchAdmin(svc.adminPort!);
  const run = await load(binary, svc.port, ["-phases", `${heavy}:6s,${light}:5s`, ...extra], 11);
  const admin = await stopAdmin();
  const text = await (await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`)).text();
  return {
    flood: run.phases[0],
    recovery: run.phases[1],
    health: run.health,
    admin,
    metrics: text,
  };
}

/** Runs both processes with the handler `extra` asks for; `callers` measure capacity. */
async function judge(label: string, extra: string[], callers: number) {
  const binary = await buildGo("overload_load");
  const before = await withoutOverload(binary, extra, callers);
  const capacity = before.capacity.goodput;
  const after = await withOverload(binary, capacity, extra);
  console.log([
    `--- ${label}`,
    describe("capacity", before.capacity),
    describe("without overload, 3x", before.flood),
    `  health: slowest ${before.health.maxMs.toFixed(0)} ms of ${before.health.checks}, ` +
    `${before.health.failures} failed`,
    describe("with overload, 3x", after.flood),
    describe("with overload, 0.5x", after.recovery),
    `  shed per second at 0.5x: ${after.recovery.unavailableBySecond.join(" ")}`,
    `  health: slowest ${after.health.maxMs.toFixed(0)} ms of ${after.health.checks}, ` +
    `${after.health.failures} failed; admin /readyz slowest ${
      after.admin.slowest.toFixed(0)
    } ms, ` +
    `${after.admin.failed} failed`,
  ].join("\n"));

  assert.ok(
    after.flood.goodput >= 0.8 * capacity,
    `goodput ${after.flood.goodput.toFixed(0)}/s is under 80% of capacity ${capacity.toFixed(0)}/s`,
  );
  assert.ok(after.flood.okP99Ms < DEADLINE_MS, `admitted p99 ${after.flood.okP99Ms} ms`);
  assert.ok((after.flood.codes.Unavailable ?? 0) > 0, "calls were shed");
  assert.equal(after.health.failures, 0, after.health.lastError);
  assert.ok(after.health.maxMs < 1000, `a health Check took ${after.health.maxMs} ms`);
  assert.equal(after.admin.failed, 0, "admin /readyz failed");
  assert.ok(after.admin.slowest < 1000, `admin /readyz took ${after.admin.slowest} ms`);
  // Rejections stop within a few seconds of the load dropping to half.
  const tail = after.recovery.unavailableBySecond.slice(2);
  assert.deepEqual(tail, tail.map(() => 0), "still shedding 2 s after the load dropped");
  assert.equal(after.recovery.goodput >= 0.95 * after.recovery.rate, true, "half load is served");

  const samples = parseExposition(after.metrics);
  const shed = ["queue_delay", "concurrency"]
    .map((reason) => valueOf(samples, "svc_overload_rejections_total", { reason }) ?? 0)
    .reduce((a, b) => a + b);
  const unavailable = valueOf(samples, "grpc_server_handled_total", {
    grpc_type: "unary",
    grpc_service: "load.Work",
    grpc_method: "Burn",
    grpc_code: "Unavailable",
  });
  assert.equal(shed, unavailable, "every Unavailable was the limiter's");
  assert.ok(shed >= (after.flood.codes.Unavailable ?? 0), "the server counted what the client saw");
  const check = await promtoolCheck(after.metrics);
  assert.equal(check.code, 0, check.output);
}

Deno.test({
  name: "overload: a 1 ms CPU handler offered 3x capacity keeps >= 80% goodput, health < 1 s",
  ignore: missing !== null,
  sanitizeResources: false,
  fn: () => judge("handler computes 1 ms", [], 8),
});

Deno.test({
  name: "overload: a handler that awaits 5 ms, then computes 1 ms, offered 3x capacity",
  ignore: missing !== null,
  sanitizeResources: false,
  // More callers: each spends 5 ms awaiting, not computing.
  fn: () => judge("handler awaits 5 ms, computes 1 ms", ["-await-ms", "5"], 32),
});
