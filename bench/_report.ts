/**
 * Turns per-process measurements into min/median/max, ratios against the
 * two bare grpc-js baselines, and padded Markdown tables (readable in a
 * terminal, pasteable into the README).
 * @module
 */
import type { BenchCase } from "./_cases.ts";
import type { ProcessRun } from "./_measure.ts";

/** The baselines every ratio is taken against. */
export const BASELINES = ["grpcjs-deno", "grpcjs-node"] as const;

/** min, median and max of the repetitions. */
export interface Stat {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly n: number;
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
}

/** min/median/max of `values` (median of an even count is the mean of the middle two). */
export function stat(values: readonly number[]): Stat {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], n: s.length };
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
  for (const c of cases) {
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
  };
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const fixed = (digits: number) => (n: number) => n.toFixed(digits);
const ratio = (n: number | null) => n === null ? "—" : `${n.toFixed(2)}×`;

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" | ")} |`;
  const rule = `| ${
    widths.map((w, i) => i === 0 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`).join(" | ")
  } |`;
  return [line(head), rule, ...body.map(line)].join("\n");
}

const ratioHeads = BASELINES.map((b) => `vs ${b}`);

/** The whole report as Markdown tables. */
export function render(summary: Summary, cases: readonly BenchCase[]): string {
  const parts: string[] = [];
  for (const c of cases) {
    const rs = summary.cases[c.name];
    if (!rs.length) continue;
    const unit = c.driver === "pingpong" ? "round trips/s" : "calls/s";
    parts.push(
      `**${c.name}**: ${c.description} (${unit}; p50/p99 per ${
        c.driver === "pingpong" ? "round trip" : "call"
      }; server CPU per ${c.driver === "pingpong" ? "round trip" : "call"})\n`,
    );
    parts.push(table(
      ["contender", `${unit} min`, "median", "max", "p50 ms", "p99 ms", "CPU µs", ...ratioHeads],
      rs.map((r) => [
        r.contender,
        int(r.stats.rate.min),
        int(r.stats.rate.median),
        int(r.stats.rate.max),
        fixed(2)(r.stats.p50Ms?.median ?? NaN),
        fixed(2)(r.stats.p99Ms?.median ?? NaN),
        fixed(1)(r.stats.cpuUs?.median ?? NaN),
        ...BASELINES.map((b) => ratio(r.ratios[b])),
      ]),
    ));
    parts.push("");
  }
  if (summary.coldStart.length) {
    parts.push("**cold-start**: exec → first OK unary call, polled every 2 ms (lower is better)\n");
    parts.push(table(
      ["contender", "ms min", "median", "max", ...ratioHeads],
      summary.coldStart.map((r) => [
        r.contender,
        fixed(0)(r.stats.ms.min),
        fixed(0)(r.stats.ms.median),
        fixed(0)(r.stats.ms.max),
        ...BASELINES.map((b) => ratio(r.ratios[b])),
      ]),
    ));
    parts.push("");
  }
  if (summary.memory.length) {
    parts.push(
      "**rss-after-load**: VmRSS and peak VmHWM after every case, MiB (lower is better)\n",
    );
    parts.push(table(
      ["contender", "RSS min", "median", "max", "peak (HWM) median", ...ratioHeads],
      summary.memory.map((r) => [
        r.contender,
        fixed(0)(r.stats.rss.min),
        fixed(0)(r.stats.rss.median),
        fixed(0)(r.stats.rss.max),
        fixed(0)(r.stats.hwm?.median ?? NaN),
        ...BASELINES.map((b) => ratio(r.ratios[b])),
      ]),
    ));
    parts.push("");
  }
  return parts.join("\n");
}

/** Issue 6's targets: a ratio of medians against grpcjs-deno. */
interface Target {
  readonly what: string;
  readonly table: "case" | "coldStart" | "memory";
  readonly caseName?: string;
  readonly contender: string;
  readonly atLeast?: number;
  readonly atMost?: number;
}

const TARGETS: readonly Target[] = [
  {
    what: "svc-default, unary-small",
    table: "case",
    caseName: "unary-small",
    contender: "svc-default",
    atLeast: 0.95,
  },
  {
    what: "svc-default, stream-1000",
    table: "case",
    caseName: "stream-1000",
    contender: "svc-default",
    atLeast: 0.95,
  },
  {
    what: "svc-builtins, unary-small",
    table: "case",
    caseName: "unary-small",
    contender: "svc-builtins",
    atLeast: 0.85,
  },
  {
    what: "svc-builtins, stream-1000",
    table: "case",
    caseName: "stream-1000",
    contender: "svc-builtins",
    atLeast: 0.85,
  },
  { what: "svc-default, cold start", table: "coldStart", contender: "svc-default", atMost: 1.5 },
  { what: "svc-default, RSS after load", table: "memory", contender: "svc-default", atMost: 1.2 },
];

/**
 * The targets this run can judge, as a Markdown table (ratios of medians
 * against grpcjs-deno). Informative only: the bench never fails on speed.
 */
export function renderTargets(summary: Summary): string {
  const body: string[][] = [];
  for (const t of TARGETS) {
    const rows = t.table === "case" ? summary.cases[t.caseName!] : summary[t.table];
    const r = rows?.find((row) => row.contender === t.contender)?.ratios["grpcjs-deno"];
    if (r === undefined || r === null) continue;
    const met = t.atLeast !== undefined ? r >= t.atLeast : r <= t.atMost!;
    const goal = t.atLeast !== undefined
      ? `≥ ${t.atLeast.toFixed(2)}×`
      : `≤ ${t.atMost!.toFixed(2)}×`;
    body.push([t.what, goal, ratio(r), met ? "met" : "not met"]);
  }
  if (!body.length) return "";
  return `**targets** (issue 6; ratio of medians vs grpcjs-deno, this run)\n\n${
    table(["target", "goal", "measured", ""], body)
  }\n`;
}
