import assert from "node:assert/strict";
import { CASES } from "./_cases.ts";
import type { ProcessRun } from "./_measure.ts";
import { render, summarize } from "./_report.ts";
import { renderTargets } from "./_targets.ts";

const CASE_NAMES = ["unary-small", "stream-1000"];
const cases = CASES.filter((c) => CASE_NAMES.includes(c.name));

/** One repetition of `contender` with the same calls/s in every case. */
function runOf(contender: string, rate: number): ProcessRun {
  const sample = {
    rate,
    calls: rate * 10,
    p50Ms: 1,
    p99Ms: 2,
    cpuUsPerCall: 10,
    settleSeconds: [0, 0] as const,
    verified: "",
  };
  return {
    contender,
    rep: 1,
    coldStartMs: 100,
    cases: Object.fromEntries(CASE_NAMES.map((n) => [n, sample])),
    memory: { rss: 50, hwm: 60 },
    errors: [],
  };
}

function report(rates: Record<string, number>) {
  const names = Object.keys(rates);
  const summary = summarize(names, cases, names.map((n) => runOf(n, rates[n])));
  return { tables: render(summary, cases), targets: renderTargets(summary) };
}

Deno.test("the grpc-go column shows only when grpc-go ran", () => {
  const base = { "svc-native": 400, "grpcjs-deno": 100, "grpcjs-node": 200 };
  const without = report(base).tables;
  assert.match(without, /vs grpcjs-deno \| vs grpcjs-node \|\n/);
  assert.doesNotMatch(without, /vs grpc-go/);
  const withGo = report({ ...base, "grpc-go": 800 }).tables;
  // Every table: the two cases, cold start and RSS.
  assert.equal(withGo.match(/vs grpcjs-node \| vs grpc-go \|\n/g)?.length, 4);
  assert.match(withGo, /\| svc-native +\|.*\| +4\.00× \| +2\.00× \| +0\.50× \|\n/);
});

Deno.test("issue 7's targets: ratios against grpcjs-node and grpc-go, grpc-go's row only when it ran", () => {
  const rates = {
    "svc-native": 250,
    "svc-native-builtins": 600,
    "grpcjs-deno": 100,
    "grpcjs-node": 200,
  };
  const without = report(rates).targets;
  assert.match(without, /\*\*targets\*\* \(issue 7; ratio of medians, this run\)/);
  assert.match(
    without,
    /svc-native-builtins, unary-small \| ≥ 3\.00× grpcjs-node \| +3\.00× \| +met/,
  );
  assert.match(without, /svc-native, stream-1000 +\| ≥ 1\.00× grpcjs-node \| +1\.25× \| +met/);
  assert.doesNotMatch(without, /grpc-go/);
  const withGo = report({ ...rates, "grpc-go": 1200 }).targets;
  assert.match(
    withGo,
    /svc-native-builtins, unary-small \| +≥ 1\.00× grpc-go \| +0\.50× \| not met/,
  );
  // svc-native is svc's default config, so issue 6's table judges it too.
  assert.match(withGo, /svc-native, unary-small +\| ≥ 0\.95× \| +2\.50× \| met/);
});

Deno.test("issue 6's table is unchanged: goals without a baseline name, vs grpcjs-deno", () => {
  const { targets } = report({ "svc-grpcjs": 95, "grpcjs-deno": 100, "grpcjs-node": 200 });
  assert.match(targets, /^\*\*targets\*\* \(issue 6; ratio of medians vs grpcjs-deno, this run\)/);
  assert.match(targets, /\| svc-grpcjs, unary-small +\| ≥ 0\.95× \| +0\.95× \| met +\|/);
  // Only targets whose contender ran: neither svc-native's rows nor issue 7's table.
  assert.doesNotMatch(targets, /svc-native|issue 7/);
});

Deno.test("a web case's table compares with connect-node only; the others never do", () => {
  const web = CASES.filter((c) => c.name === "grpc-web-unary-h2" || c.name === "unary-small");
  const sample = (rate: number) => ({
    rate,
    calls: rate * 10,
    p50Ms: 1,
    p99Ms: 2,
    cpuUsPerCall: 10,
    settleSeconds: [0, 0] as const,
    verified: "",
  });
  const runs: ProcessRun[] = [
    {
      ...runOf("svc-native-web", 0),
      cases: { "unary-small": sample(400), "grpc-web-unary-h2": sample(300) },
    },
    { ...runOf("connect-node", 0), cases: { "grpc-web-unary-h2": sample(100) } },
    runOf("grpcjs-deno", 100),
    runOf("grpcjs-node", 200),
  ];
  const names = runs.map((r) => r.contender);
  const tables = render(summarize(names, web, runs), web);
  const [small, grpcWeb, coldStart] = tables.split(/\n(?=\*\*)/);
  assert.match(grpcWeb, /\| CPU µs \| vs connect-node \|\n/);
  assert.match(grpcWeb, /\| svc-native-web +\|.*\| +3\.00× \|\n/);
  assert.doesNotMatch(grpcWeb, /grpcjs/);
  assert.doesNotMatch(small, /connect-node/);
  assert.match(coldStart, /vs grpcjs-node \|\n/);
  assert.doesNotMatch(coldStart, /vs connect-node/);
});
