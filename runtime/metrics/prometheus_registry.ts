/**
 * The prom-client side of the metrics, built on the first scrape: a
 * `Registry` whose metrics read svc's plain numbers (see snapshot.ts), and
 * the process metrics. metrics.ts imports this module lazily, so a process
 * that is never scraped never loads prom-client.
 * @module
 */
import type { MemoryBudget } from "../util/memory_budget.ts";
import { Registry } from "prom-client";
import { type ClientReadings, registerClientMetrics } from "./client_metrics.ts";
import type { GrpcStats } from "./grpc_stats.ts";
import { METHOD_LABELS, perMethod, registerGrpcSeries } from "./grpc_series.ts";
import { type MemoryLimitReadings, registerMemoryLimit } from "./memory_limit.ts";
import { createProcessMetrics } from "./process.ts";
import {
  type SeriesValue,
  SnapshotCounter,
  SnapshotGauge,
  unlabelledCounters,
  unlabelledGauges,
} from "./snapshot.ts";

/** What the overload limiter shows (overload/limiter.ts fits), read at scrape time. */
export interface OverloadReadings {
  readonly overloaded: boolean;
  /** Unary calls in flight allowed while overloaded; Infinity until measured. */
  readonly limit: number;
  readonly inFlight: number;
  /** Milliseconds. */
  readonly loopDelay: number;
  /** Shed calls by reason. */
  readonly rejections: Readonly<Record<string, number>>;
}

/** What the span exporter counts (tracing/exporter.ts fits), read at scrape time. */
export interface TracingReadings {
  /** Spans dropped, by reason. */
  readonly dropped: Readonly<Record<string, number>>;
  readonly exportFailures: number;
  readonly exported: number;
  readonly queued: number;
}

/** Registry events, counted by metrics.ts. */
export interface RegistryCounts {
  /** 1 while registered, else 0. */
  registered: number;
  registrations: number;
  failures: number;
}

/** Everything the call path and the registrar count, read at scrape time. */
export interface MetricValues {
  readonly stats: GrpcStats;
  /** `svc_rate_limit_rejections_total` series, one per limit, service and method seen. */
  readonly rejections: SeriesValue[];
  readonly registry: RegistryCounts;
  /** Process, V8 heap and event-loop metrics. */
  readonly defaultMetrics: boolean;
  /** The process's memory budget, when the server has one. */
  readonly memory: MemoryBudget | null;
  /** The overload limiter, when `overload` is enabled. */
  readonly overload: OverloadReadings | null;
  /** The memory-limit guard, when a memory limit is in force. */
  readonly memoryLimit?: MemoryLimitReadings | null;
  /** The span exporter, when `tracing` is enabled. */
  readonly tracing: TracingReadings | null;
  /**
   * Calls to other services, when the service has dependencies; null
   * registers no `grpc_client_*` or `svc_client_*` metric at all.
   */
  readonly client: ClientMetricValues | null;
}

/** The client side's numbers: what the client observer counts, and the clients' readings. */
export interface ClientMetricValues {
  readonly stats: GrpcStats;
  /** The `svc_client_*` series' source; null shows only the go-grpc-prometheus ones. */
  readonly readings: ClientReadings | null;
}

/** A registry over {@link MetricValues}; `sample()` must run before each render. */
export interface RenderedRegistry {
  readonly registry: Registry;
  sample(): Promise<void>;
}

/** Registers every metric over `values` on a new registry. */
export function createRegistry(values: MetricValues): RenderedRegistry {
  const registry = new Registry();
  _registerGrpcMetrics(registry, values.stats);
  if (values.client) registerClientMetrics(registry, values.client.stats, values.client.readings);
  new SnapshotCounter({
    name: "svc_rate_limit_rejections_total",
    help: "Total number of calls rejected with ResourceExhausted by a rate limit.",
    labelNames: ["limit", "grpc_service", "grpc_method"],
    registry,
  }, () => values.rejections);
  const counts = values.registry;
  new SnapshotGauge({
    name: "svc_registry_registered",
    help: "1 while this instance is registered in the service registry, else 0.",
    labelNames: [],
    registry,
  }, () => [{ labels: {}, value: counts.registered }]);
  new SnapshotCounter({
    name: "svc_registry_registrations_total",
    help: "Total number of successful registrations in the service registry.",
    labelNames: [],
    registry,
  }, () => [{ labels: {}, value: counts.registrations }]);
  new SnapshotCounter({
    name: "svc_registry_failures_total",
    help: "Total number of failed registration or keep-alive attempts with the service registry.",
    labelNames: [],
    registry,
  }, () => [{ labels: {}, value: counts.failures }]);
  if (values.memory) registerMemoryBudget(registry, values.memory);
  if (values.overload) registerOverload(registry, values.overload);
  if (values.memoryLimit) registerMemoryLimit(registry, values.memoryLimit);
  if (values.tracing) registerTracing(registry, values.tracing);
  const processMetrics = values.defaultMetrics ? createProcessMetrics(registry) : null;
  return { registry, sample: () => processMetrics?.sample() ?? Promise.resolve() };
}

/** The go-grpc-prometheus server metrics (grpc_series.ts) and svc's in-flight gauges. */
function _registerGrpcMetrics(registry: Registry, stats: GrpcStats): void {
  registerGrpcSeries(registry, stats, "server");
  new SnapshotGauge({
    name: "svc_server_in_flight_calls",
    help: "Number of calls the server is handling now.",
    labelNames: [],
    registry,
  }, () => [{ labels: {}, value: stats.inFlight }]);
  new SnapshotGauge({
    name: "svc_server_method_in_flight_calls",
    help: "Number of calls the server is handling now, per method.",
    labelNames: [...METHOD_LABELS],
    registry,
  }, perMethod(stats, (method) => method.inFlight));
}

function registerMemoryBudget(registry: Registry, memory: MemoryBudget): void {
  const gauge = unlabelledGauges(registry);
  gauge(
    "svc_memory_budget_bytes",
    "The memory budget for what clients make the server hold.",
    () => memory.limit,
  );
  gauge(
    "svc_memory_held_bytes",
    "Bytes clients make the server hold now: requests buffered, inflated and decoded (estimated), responses parked.",
    () => memory.used,
  );
  gauge(
    "svc_memory_held_peak_bytes",
    "The most svc_memory_held_bytes has been.",
    () => memory.peak,
  );
  unlabelledCounters(registry)(
    "svc_memory_budget_refusals_total",
    "Requests for memory the budget refused; each ended a call RESOURCE_EXHAUSTED.",
    () => memory.refused,
  );
}

function registerOverload(registry: Registry, overload: OverloadReadings): void {
  new SnapshotCounter({
    name: "svc_overload_rejections_total",
    help: "Total number of calls the overload limiter shed with Unavailable, by reason.",
    labelNames: ["reason"],
    registry,
  }, () =>
    Object.entries(overload.rejections).map(([reason, value]) => ({
      labels: { reason },
      value,
    })));
  const gauge = unlabelledGauges(registry);
  gauge(
    "svc_overload_active",
    "1 while the overload limiter holds calls to overload.targetDelay and its limit, else 0.",
    () => overload.overloaded ? 1 : 0,
  );
  new SnapshotGauge({
    name: "svc_overload_limit",
    help:
      "Unary calls in flight the overload limiter allows while overloaded (peak rate x (min latency + targetDelay)); +Inf until measured.",
    labelNames: [],
    registry,
  }, () => [{ labels: {}, value: overload.limit }]);
  gauge(
    "svc_overload_in_flight_calls",
    "Unary calls the overload limiter counts in flight.",
    () => overload.inFlight,
  );
  gauge(
    "svc_overload_loop_delay_seconds",
    "How late the event loop ran the overload limiter's last 10 ms probe.",
    () => overload.loopDelay / 1e3,
  );
}

function registerTracing(registry: Registry, tracing: TracingReadings): void {
  new SnapshotCounter({
    name: "svc_tracing_spans_dropped_total",
    help: "Total number of spans dropped, by reason: queue_full or export_failed.",
    labelNames: ["reason"],
    registry,
  }, () =>
    Object.entries(tracing.dropped).map(([reason, value]) => ({
      labels: { reason },
      value,
    })));
  const counter = unlabelledCounters(registry);
  counter(
    "svc_tracing_export_failures_total",
    "Total number of span export requests that failed (network error, timeout or an error status).",
    () => tracing.exportFailures,
  );
  counter(
    "svc_tracing_spans_exported_total",
    "Total number of spans the collector accepted.",
    () => tracing.exported,
  );
  unlabelledGauges(registry)(
    "svc_tracing_queued_spans",
    "Ended spans waiting in the export queue.",
    () => tracing.queued,
  );
}
