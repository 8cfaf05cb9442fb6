/**
 * Turns per-process measurements into min/median/max, ratios against the
 * baselines (bare grpc-js on Deno and Node, and grpc-go; connect-node on
 * the gRPC-Web and Connect cases), and padded
 * Markdown tables (readable in a terminal, pasteable into the README).
 * @module
 */
import { type BenchCase, isFixedRate } from "./_cases.ts";
import { type LatencyRow, renderFixedRate, summarizeFixedRate } from "./_latency_report.ts";
import type { ProcessRun } from "./_measure.ts";
import { type MemoryRow, renderMemory, summarizeMemory } from "./_memory_report.ts";
import { type Stat, stat, table } from "./_stats.ts";

/** The baselines every ratio is taken against. */
export const BASELINES = ["grpcjs-deno", "grpcjs-node", "grpc-go", "connect-node"] as const;
/** A baseline contender's name. */
export type Baseline = (typeof BASELINES)[number];

/**
 * grpc-go is skipped when it does not build, connect-node when Node cannot
 * load it (and either can be left out with --contenders): their columns
 * appear only in tables they have a row in. The grpc-js columns always
 * show, "—" when their contender did not run.
 */
const OPTIONAL_BASELINES: ReadonlySet<Baseline> = new Set(["grpc-go", "connect-node"]);

/**
 * The baselines a table compares with: connect-node (the only one that
 * speaks them) for the web cases; the gRPC servers for the gRPC cases, cold
 * start and memory (connect-node's row shows there, without a column).
 */
function baselinesOf(rs: readonly Row[], benchCase?: BenchCase): Baseline[] {
  const candidates = benchCase?.protocol !== undefined && benchCase.protocol !== "grpc"
    ? ["connect-node" as const]
    : BASELINES.filter((b) => b !== "connect-node");
  return candidates.filter((b) => !OPTIONAL_BASELINES.has(b) || rs.some((r) => r.contender === b));
}

/** One contender in one case. */
export interface Row {
  readonly contender: string;
  readonly stats: Record<string, Stat>;
  /** Median of the headline figure divided by each baseline's median. */
  readonly ratios: Record<string, number | null>;
}

/** Every table of a run. */
export interface Summary {
  readonly cases: Record<string, Row[]>;
  readonly coldStart: Row[];
  readonly memory: Row[];
  /** Fixed-rate cases (issue 20), by case: latency percentiles and ratios to grpc-go. */
  readonly fixedRate?: Record<string, LatencyRow[]>;
  /** RSS idle, end of load, peak, with idle connections (issue 20). */
  readonly memoryDetail?: MemoryRow[];
}

function rows(
  contenders: readonly string[],
  runs: readonly ProcessRun[],
  metrics: Record<string, (run: ProcessRun) => number | null | undefined>,
  headline: string,
): Row[] {
  const out: Row[] = [];
  for (const contender of contenders) {
    const stats: Record<string, Stat> = {};
    for (const [key, pick] of Object.entries(metrics)) {
      const values = runs.filter((r) => r.contender === contender).map(pick)
        .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
      if (values.length) stats[key] = stat(values);
    }
    if (stats[headline]) out.push({ contender, stats, ratios: {} });
  }
  for (const row of out) {
    for (const base of BASELINES) {
      const b = out.find((r) => r.contender === base)?.stats[headline].median;
      (row.ratios as Record<string, number | null>)[base] = b
        ? row.stats[headline].median / b
        : null;
    }
  }
  return out;
}

/** Summarizes every process run by case and contender. */
export function summarize(
  contenders: readonly string[],
  cases: readonly BenchCase[],
  runs: readonly ProcessRun[],
): Summary {
  const byCase: Record<string, Row[]> = {};
  for (const c of cases.filter((c) => !isFixedRate(c))) {
    byCase[c.name] = rows(contenders, runs, {
      rate: (r) => r.cases[c.name]?.rate,
      p50Ms: (r) => r.cases[c.name]?.p50Ms,
      p99Ms: (r) => r.cases[c.name]?.p99Ms,
      cpuUs: (r) => r.cases[c.name]?.cpuUsPerCall,
    }, "rate");
  }
  return {
    cases: byCase,
    coldStart: rows(contenders, runs, { ms: (r) => r.coldStartMs }, "ms"),
    memory: rows(contenders, runs, {
      rss: (r) => r.memory?.rss,
      hwm: (r) => r.memory?.hwm,
    }, "rss"),
    fixedRate: summarizeFixedRate(contenders, cases, runs),
    memoryDetail: summarizeMemory(contenders, runs),
  };
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const fixed = (digits: number) => (n: number) => n.toFixed(digits);
/** A ratio as the tables print it ("—" without a baseline). */
export const ratio = (n: number | null | undefined): string =>
  n === null || n === undefined ? "—" : `${n.toFixed(2)}×`;

const heads = (bases: readonly Baseline[]) => bases.map((b) => `vs ${b}`);

/** The whole report as Markdown tables. */
export function render(summary: Summary, cases: readonly BenchCase[]): string {
  const parts: string[] = [];
  for (const c of cases) {
    const rs = summary.cases[c.name];
    if (!rs?.length) continue;
    const bases = baselinesOf(rs, c);
    const unit = c.driver === "pingpong" ? "round trips/s" : "calls/s";
    parts.push(
      `**${c.name}**: ${c.description} (${unit}; p50/p99 per ${
        c.driver === "pingpong" ? "round trip" : "call"
      }; server CPU per ${c.driver === "pingpong" ? "round trip" : "call"})\n`,
    );
    parts.push(table(
      ["contender", `${unit} min`, "median", "max", "p50 ms", "p99 ms", "CPU µs", ...heads(bases)],
      rs.map((r) => [
        r.contender,
        int(r.stats.rate.min),
        int(r.stats.rate.median),
        int(r.stats.rate.max),
        fixed(2)(r.stats.p50Ms?.median ?? NaN),
        fixed(2)(r.stats.p99Ms?.median ?? NaN),
        fixed(1)(r.stats.cpuUs?.median ?? NaN),
        ...bases.map((b) => ratio(r.ratios[b])),
      ]),
    ));
    parts.push("");
  }
  const fixedRate = renderFixedRate(summary.fixedRate, cases);
  if (fixedRate) parts.push(fixedRate);
  if (summary.coldStart.length) {
    const bases = baselinesOf(summary.coldStart);
    parts.push("**cold-start**: exec → first OK unary call, polled every 2 ms (lower is better)\n");
    parts.push(table(
      ["contender", "ms min", "median", "max", ...heads(bases)],
      summary.coldStart.map((r) => [
        r.contender,
        fixed(0)(r.stats.ms.min),
        fixed(0)(r.stats.ms.median),
        fixed(0)(r.stats.ms.max),
        ...bases.map((b) => ratio(r.ratios[b])),
      ]),
    ));
    parts.push("");
  }
  if (summary.memory.length) {
    const bases = baselinesOf(summary.memory);
    parts.push(
      "**rss-after-load**: VmRSS and peak VmHWM after every case, MiB (lower is better)\n",
    );
    parts.push(table(
      ["contender", "RSS min", "median", "max", "peak (HWM) median", ...heads(bases)],
      summary.memory.map((r) => [
        r.contender,
        fixed(0)(r.stats.rss.min),
        fixed(0)(r.stats.rss.median),
        fixed(0)(r.stats.rss.max),
        fixed(0)(r.stats.hwm?.median ?? NaN),
        ...bases.map((b) => ratio(r.ratios[b])),
      ]),
    ));
    parts.push("");
  }
  const memory = renderMemory(summary.memoryDetail);
  if (memory) parts.push(memory);
  return parts.join("\n");
}
