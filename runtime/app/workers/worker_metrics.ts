/**
 * One `/metrics` for a process of several workers: the workers' series
 * summed per label set (prom-client's cluster aggregation, which
 * `AggregatorRegistry.aggregate` implements), plus the supervisor's own:
 * process metrics (one process, read once), the registry entry, and the
 * workers' own figures. Loaded on the first scrape, as prom-client is.
 * @module
 */
import { AggregatorRegistry } from "prom-client";

/**
 * Series that must not be summed across workers: a flag or a delay is the
 * worst worker's, and the memory limit's readings are the one process's,
 * which every worker reads alike. Everything else (counters, histograms,
 * in-flight gauges, each worker's share of the memory budget) adds up.
 */
const NOT_SUMMED: Readonly<Record<string, string>> = {
  svc_overload_active: "max",
  svc_overload_loop_delay_seconds: "max",
  svc_memory_limit_bytes: "max",
  svc_memory_used_bytes: "max",
  svc_memory_used_peak_bytes: "max",
  svc_memory_limit_shedding: "max",
  deno_version_info: "first",
};

/** What the supervisor knows about its workers at scrape time. */
export interface WorkerReadings {
  readonly configured: number;
  readonly serving: number;
  readonly restarts: number;
}

interface MetricJson {
  name: string;
  aggregator?: string;
}

/** The Prometheus text for `supervisor`'s and `workers`' prom-client JSON. */
export async function aggregateMetrics(
  supervisor: unknown[],
  workers: readonly unknown[][],
  readings: WorkerReadings,
): Promise<{ contentType: string; body: string }> {
  const all = [supervisor, ...workers, workerSeries(readings)].map((metrics) =>
    (metrics as MetricJson[]).map((metric) => {
      const aggregator = NOT_SUMMED[metric.name];
      return aggregator ? { ...metric, aggregator } : metric;
    })
  );
  // deno-lint-ignore no-explicit-any
  const registry = AggregatorRegistry.aggregate(all as any);
  return { contentType: registry.contentType, body: await registry.metrics() };
}

function workerSeries(readings: WorkerReadings): unknown[] {
  const one = (name: string, help: string, type: string, value: number) => ({
    name,
    help,
    type,
    aggregator: "sum",
    values: [{ labels: {}, value }],
  });
  return [
    one(
      "svc_workers",
      "Workers configured to serve the port (server.workers).",
      "gauge",
      readings.configured,
    ),
    one("svc_workers_serving", "Workers serving the port now.", "gauge", readings.serving),
    one(
      "svc_worker_restarts_total",
      "Workers restarted after a crash.",
      "counter",
      readings.restarts,
    ),
  ];
}
