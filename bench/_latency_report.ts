/**
 * The fixed-rate cases' tables (issue 20): latency at an offered rate well
 * below saturation, p50/p99/p99.9 per contender and their ratios to
 * grpc-go. Throughput is not the question there; the achieved rate is shown
 * so that a contender that could not keep up is seen.
 * @module
 */
import { type BenchCase, isFixedRate } from "./_cases.ts";
import type { ProcessRun } from "./_measure.ts";
import { type Stat, stat, table } from "./_stats.ts";

/** The baseline of the latency ratios. */
const BASE = "grpc-go";
/** Below this share of the offered rate, a row is marked: it did not keep up. */
const KEPT_UP = 0.95;

/** One contender in one fixed-rate case. */
export interface LatencyRow {
  readonly contender: string;
  readonly stats: Record<string, Stat>;
  /** Medians of p50, p99 and p99.9 divided by grpc-go's; null without grpc-go. */
  readonly ratios: { p50: number | null; p99: number | null; p999: number | null };
}

const METRICS = {
  offered: (s: ProcessRun["cases"][string]) => s.targetRate,
  rate: (s: ProcessRun["cases"][string]) => s.rate,
  p50: (s: ProcessRun["cases"][string]) => s.p50Ms,
  p99: (s: ProcessRun["cases"][string]) => s.p99Ms,
  p999: (s: ProcessRun["cases"][string]) => s.p999Ms,
  max: (s: ProcessRun["cases"][string]) => s.maxMs,
  cpuUs: (s: ProcessRun["cases"][string]) => s.cpuUsPerCall,
  queued: (s: ProcessRun["cases"][string]) => s.runQueueMsPerS,
};

/** Rows per fixed-rate case: medians over the repetitions, ratios to grpc-go. */
export function summarizeFixedRate(
  contenders: readonly string[],
  cases: readonly BenchCase[],
  runs: readonly ProcessRun[],
): Record<string, LatencyRow[]> {
  const out: Record<string, LatencyRow[]> = {};
  for (const c of cases.filter(isFixedRate)) {
    const rows: { contender: string; stats: Record<string, Stat> }[] = [];
    for (const contender of contenders) {
      const samples = runs.filter((r) => r.contender === contender)
        .map((r) => r.cases[c.name]).filter((s) => s !== undefined);
      if (!samples.length) continue;
      const stats: Record<string, Stat> = {};
      for (const [key, pick] of Object.entries(METRICS)) {
        const values = samples.map(pick)
          .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
        if (values.length) stats[key] = stat(values);
      }
      rows.push({ contender, stats });
    }
    const base = rows.find((r) => r.contender === BASE)?.stats;
    const over = (row: Record<string, Stat>, key: string) =>
      base?.[key]?.median && row[key] ? row[key].median / base[key].median : null;
    out[c.name] = rows.map((r) => ({
      ...r,
      ratios: { p50: over(r.stats, "p50"), p99: over(r.stats, "p99"), p999: over(r.stats, "p999") },
    }));
  }
  return out;
}

const ms = (s: Stat | undefined) => s ? s.median.toFixed(2) : "—";
const times = (n: number | null) => n === null ? "—" : `${n.toFixed(2)}×`;
const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** The fixed-rate tables; empty when no fixed-rate case ran. */
export function renderFixedRate(
  summary: Record<string, LatencyRow[]> | undefined,
  cases: readonly BenchCase[],
): string {
  const parts: string[] = [];
  for (const c of cases.filter(isFixedRate)) {
    const rs = summary?.[c.name] ?? [];
    if (!rs.length) continue;
    const withBase = rs.some((r) => r.contender === BASE);
    parts.push(
      `**${c.name}**: ${c.description}; h2load -c ${c.connections} -m ${c.streams} --rps ` +
        `(offered ÷ ${c.connections} per connection) (latency per call, ms, medians of the ` +
        "repetitions; server CPU per call; queued: ms per second the server's main thread " +
        "waited for its core, which other work held)\n",
    );
    const behind = rs.filter((r) =>
      r.stats.offered && r.stats.rate.median < KEPT_UP * r.stats.offered.median
    );
    parts.push(table(
      [
        "contender",
        "offered calls/s",
        "achieved",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "CPU µs",
        "queued ms/s",
        ...(withBase ? ["p50 vs grpc-go", "p99 vs grpc-go", "p99.9 vs grpc-go"] : []),
      ],
      rs.map((r) => [
        r.contender,
        r.stats.offered ? int(r.stats.offered.median) : "—",
        int(r.stats.rate.median) + (behind.includes(r) ? " (behind)" : ""),
        ms(r.stats.p50),
        ms(r.stats.p99),
        ms(r.stats.p999),
        ms(r.stats.max),
        r.stats.cpuUs ? r.stats.cpuUs.median.toFixed(1) : "—",
        r.stats.queued ? r.stats.queued.median.toFixed(1) : "—",
        ...(withBase ? [times(r.ratios.p50), times(r.ratios.p99), times(r.ratios.p999)] : []),
      ]),
    ));
    if (behind.length) {
      parts.push(
        `\n(behind): achieved under ${KEPT_UP * 100} % of the offered rate: saturated, so ` +
          "its latencies include h2load's own queue (calls held back at `-m` are timed from " +
          "when they are sent).",
      );
    }
    parts.push("");
  }
  return parts.join("\n");
}
