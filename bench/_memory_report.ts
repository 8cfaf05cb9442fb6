/**
 * The memory table (issue 20): RSS idle, at the end of the load, at its peak
 * (VmHWM), and with 1,000 idle HTTP/2 connections held, per contender, with
 * ratios to grpc-go. The older rss-after-load table stays as it was.
 * @module
 */
import type { ProcessRun } from "./_measure.ts";
import { type Stat, stat, table } from "./_stats.ts";

const BASE = "grpc-go";

/** One contender's memory figures over the repetitions (MiB, KiB per connection). */
export interface MemoryRow {
  readonly contender: string;
  readonly stats: Record<string, Stat>;
  /** Median over grpc-go's median, per figure; null without grpc-go. */
  readonly ratios: Record<string, number | null>;
}

/** The RSS at the end of the last measured load of a run (cases run in insertion order). */
function endOfLoad(run: ProcessRun): number | undefined {
  const last = Object.values(run.cases).findLast((s) => s.rssEndMiB !== undefined);
  return last?.rssEndMiB;
}

const METRICS: Record<string, (r: ProcessRun) => number | null | undefined> = {
  idle: (r) => r.idleMemory?.rss,
  endOfLoad,
  peak: (r) => r.memory?.hwm,
  anonIdle: (r) => r.idleMemory?.anon,
  anonAfter: (r) => r.memory?.anon,
  settled: (r) => r.settledMemory?.rss,
  anonSettled: (r) => r.settledMemory?.anon,
  connsBefore: (r) => r.idleConnections?.rssBefore,
  connsHeld: (r) => r.idleConnections?.rssHeld,
  connsClosed: (r) => r.idleConnections?.rssAfterClose,
  kibPerConnection: (r) => r.idleConnections?.kibPerConnection,
};

/** Rows for contenders with an idle reading (results files from before it have none). */
export function summarizeMemory(
  contenders: readonly string[],
  runs: readonly ProcessRun[],
): MemoryRow[] {
  const rows: { contender: string; stats: Record<string, Stat> }[] = [];
  for (const contender of contenders) {
    const mine = runs.filter((r) => r.contender === contender);
    const stats: Record<string, Stat> = {};
    for (const [key, pick] of Object.entries(METRICS)) {
      const values = mine.map(pick)
        .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
      if (values.length) stats[key] = stat(values);
    }
    if (stats.idle) rows.push({ contender, stats });
  }
  const base = rows.find((r) => r.contender === BASE)?.stats;
  return rows.map((r) => ({
    ...r,
    ratios: Object.fromEntries(
      Object.keys(METRICS).map((k) => [
        k,
        base?.[k]?.median && r.stats[k] ? r.stats[k].median / base[k].median : null,
      ]),
    ),
  }));
}

const mib = (s: Stat | undefined) => s ? s.median.toFixed(0) : "—";
const times = (n: number | null | undefined) => n == null ? "—" : `${n.toFixed(2)}×`;

/** The memory table; empty when no run has an idle reading. */
export function renderMemory(rows: readonly MemoryRow[] | undefined): string {
  if (!rows?.length) return "";
  const withBase = rows.some((r) => r.contender === BASE);
  const conns = rows.some((r) => r.stats.connsHeld);
  const anon = rows.some((r) => r.stats.anonAfter);
  const settled = rows.some((r) => r.stats.settled);
  const head = [
    "contender",
    "idle",
    "end of load",
    "peak (HWM)",
    ...(anon ? ["anon idle", "anon after all"] : []),
    ...(settled ? ["5 s after", "anon 5 s after"] : []),
    ...(conns ? ["1,000 idle conns", "KiB per conn", "after closing"] : []),
    ...(withBase
      ? ["idle vs grpc-go", "end of load vs grpc-go", ...(conns ? ["per conn vs grpc-go"] : [])]
      : []),
  ];
  const body = rows.map((r) => [
    r.contender,
    mib(r.stats.idle),
    mib(r.stats.endOfLoad),
    mib(r.stats.peak),
    ...(anon ? [mib(r.stats.anonIdle), mib(r.stats.anonAfter)] : []),
    ...(settled ? [mib(r.stats.settled), mib(r.stats.anonSettled)] : []),
    ...(conns
      ? [
        mib(r.stats.connsHeld),
        r.stats.kibPerConnection ? r.stats.kibPerConnection.median.toFixed(1) : "—",
        mib(r.stats.connsClosed),
      ]
      : []),
    ...(withBase
      ? [
        times(r.ratios.idle),
        times(r.ratios.endOfLoad),
        ...(conns ? [times(r.ratios.kibPerConnection)] : []),
      ]
      : []),
  ]);
  return [
    "**memory**: VmRSS MiB, medians of the repetitions: idle (started, before any load), at the " +
    "end of the last measured load, peak (VmHWM at the end); the anonymous part (RssAnon: what " +
    "a container's limit charges; the rest is mostly the executable's pages) idle and after the " +
    "last case; RSS and its anonymous part 5 s after the last case, idle; with the idle-connections case, " +
    "RSS with 1,000 HTTP/2 connections held idle after one call each (opened before any load), " +
    "the growth per connection over the RSS just before them, and RSS once they were closed " +
    "(lower is better)\n",
    table(head, body),
    "",
  ].join("\n");
}
