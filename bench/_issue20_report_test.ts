import assert from "node:assert/strict";
import { CASES } from "./_cases.ts";
import type { CaseSample, ProcessRun } from "./_measure.ts";
import { render, summarize } from "./_report.ts";
import { resolveFixedRates } from "./_saturation.ts";

const NAMES = ["unary-small", "unary-small-5k", "idle-connections-1000"];
const cases = CASES.filter((c) => NAMES.includes(c.name));

function sample(rate: number, p99Ms: number, extra: Partial<CaseSample> = {}): CaseSample {
  return {
    rate,
    calls: rate * 10,
    p50Ms: 1,
    p99Ms,
    cpuUsPerCall: 10,
    settleSeconds: [0, 0],
    verified: "",
    ...extra,
  };
}

function runOf(contender: string, p99: number, achieved: number): ProcessRun {
  return {
    contender,
    rep: 1,
    coldStartMs: 100,
    cases: {
      "unary-small": sample(100_000, 4, { rssEndMiB: 150 }),
      "unary-small-5k": sample(achieved, p99, {
        p999Ms: p99 * 2,
        maxMs: p99 * 3,
        targetRate: 5000,
        rssEndMiB: 120,
        runQueueMsPerS: 12.5,
      }),
    },
    memory: { rss: 110, hwm: 160 },
    idleMemory: { rss: contender === "grpc-go" ? 10 : 90, hwm: 90 },
    idleConnections: {
      connections: 1000,
      rssBefore: 90,
      rssHeld: contender === "grpc-go" ? 145 : 165,
      rssAfterClose: 160,
      kibPerConnection: contender === "grpc-go" ? 56 : 76.8,
      openSeconds: 1,
    },
    errors: [],
  };
}

const runs = [runOf("svc-native", 3.1, 4990), runOf("grpc-go", 2.48, 5000)];
const tables = render(summarize(["svc-native", "grpc-go"], cases, runs), cases);

Deno.test("a fixed-rate case gets its own table: p50/p99/p99.9 and ratios to grpc-go", () => {
  const line = tables.split("\n").find((l) => l.startsWith("| svc-native") && l.includes("5,000"));
  assert.ok(line, tables);
  const cells = line.split("|").map((c) => c.trim()).filter(Boolean);
  assert.deepEqual(cells, [
    "svc-native",
    "5,000",
    "4,990",
    "1.00",
    "3.10",
    "6.20",
    "9.30",
    "10.0",
    "12.5",
    "1.00×",
    "1.25×",
    "1.25×",
  ]);
  assert.doesNotMatch(tables, /\(behind\)/);
});

Deno.test("a contender under 95 % of the offered rate is marked behind", () => {
  const slow = [runOf("svc-native", 3.1, 4000), runOf("grpc-go", 2.48, 5000)];
  assert.match(
    render(summarize(["svc-native", "grpc-go"], cases, slow), cases),
    /4,000 \(behind\)/,
  );
});

Deno.test("the unary-small table is as before; the idle-connections case makes none", () => {
  const plain = CASES.filter((c) => c.name === "unary-small");
  const before = render(summarize(["svc-native", "grpc-go"], plain, runs), plain);
  const first = (text: string) => text.split("\n\n").slice(0, 2).join("\n\n");
  assert.equal(first(tables), first(before));
  assert.doesNotMatch(tables, /\*\*idle-connections-1000\*\*/);
});

Deno.test("the memory table: idle, end of load, peak, 1,000 idle connections", () => {
  const line = tables.split("\n").findLast((l) => l.startsWith("| svc-native"));
  const cells = line!.split("|").map((c) => c.trim()).filter(Boolean);
  assert.deepEqual(cells, [
    "svc-native",
    "90",
    "120",
    "160",
    "165",
    "76.8",
    "160",
    "9.00×",
    "1.00×",
    "1.37×",
  ]);
});

Deno.test("shares of saturation become whole calls/s per connection; absolute rates stay", async () => {
  const chosen = CASES.filter((c) => c.rate !== undefined || c.rateOfSaturation !== undefined);
  const { cases: out, saturation } = await resolveFixedRates(chosen, [], {} as never, 100_003);
  assert.equal(saturation?.rate, 100_003);
  assert.deepEqual(out.map((c) => [c.name, c.rate]), [
    ["unary-small-5k", 5000],
    ["unary-small-25pct", 25_000],
    ["unary-small-50pct", 50_000],
  ]);
});
