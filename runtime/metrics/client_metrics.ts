/**
 * The prom-client side of the metrics of calls to other services:
 * go-grpc-prometheus's client metrics (names, labels and help texts as in
 * its client_metrics.go, so the usual dashboards work) and svc's own
 * `svc_client_*` series for the circuit breaker, retries and outlier
 * ejection. Loaded with prometheus_registry.ts on the first scrape.
 * @module
 */
import type { Registry } from "prom-client";
import type { GrpcStats } from "./grpc_stats.ts";
import { registerGrpcSeries } from "./grpc_series.ts";
import { type SeriesValue, SnapshotCounter, SnapshotGauge } from "./snapshot.ts";

/**
 * What the clients of every dependency count (runtime/client/ provides
 * it), read at scrape time. The metrics room defines it so it never
 * imports the client room.
 */
export interface ClientReadings {
  /** One entry per declared dependency. */
  readonly dependencies: readonly DependencyReadings[];
}

/**
 * One dependency's readings; each becomes a series labelled
 * `grpc_service`. A NaN reading (e.g. a feature the dependency has off)
 * leaves its series out.
 */
export interface DependencyReadings {
  /** `pkg.Service`: label `grpc_service`. */
  readonly service: string;
  /** Gauge `svc_client_breaker_drop_ratio`: share of new calls the breaker rejects now, 0 to 1. */
  readonly breakerDropRatio: number;
  /** Counter `svc_client_breaker_rejections_total`: calls the breaker rejected locally. */
  readonly breakerRejections: number;
  /** Counter `svc_client_retries_total`: attempts after the first. */
  readonly retries: number;
  /** Counter `svc_client_retries_throttled_total`: retries not made for lack of retry tokens. */
  readonly retriesThrottled: number;
  /** Gauge `svc_client_retry_tokens`: retry tokens left. */
  readonly retryTokens: number;
  /** Gauge `svc_client_instances`: instances known (discovered or static). */
  readonly instances: number;
  /** Gauge `svc_client_ejected_instances`: instances ejected by outlier detection now. */
  readonly ejectedInstances: number;
  /** Counter `svc_client_ejections_total`: ejections by outlier detection. */
  readonly ejections: number;
}

/**
 * Registers the client metrics on `registry`: the go-grpc-prometheus ones
 * over `stats`, and the `svc_client_*` ones when `readings` are given.
 */
export function registerClientMetrics(
  registry: Registry,
  stats: GrpcStats,
  readings: ClientReadings | null,
): void {
  registerGrpcSeries(registry, stats, "client");
  if (readings) _registerDependencyMetrics(registry, readings);
}

/** svc's own per-dependency series, read from the clients at scrape time. */
function _registerDependencyMetrics(registry: Registry, readings: ClientReadings): void {
  const labelNames = ["grpc_service"];
  const perDependency = (read: (dependency: DependencyReadings) => number) => (): SeriesValue[] =>
    readings.dependencies.flatMap((dependency) => {
      const value = read(dependency);
      return Number.isNaN(value) ? [] : [{ labels: { grpc_service: dependency.service }, value }];
    });
  const gauge = (name: string, help: string, read: (dependency: DependencyReadings) => number) =>
    new SnapshotGauge({ name, help, labelNames, registry }, perDependency(read));
  const counter = (name: string, help: string, read: (dependency: DependencyReadings) => number) =>
    new SnapshotCounter({ name, help, labelNames, registry }, perDependency(read));
  gauge(
    "svc_client_breaker_drop_ratio",
    "Share of new calls to the dependency the circuit breaker rejects now, 0 (closed) to 1.",
    (dependency) => dependency.breakerDropRatio,
  );
  counter(
    "svc_client_breaker_rejections_total",
    "Total number of calls the circuit breaker rejected locally with Unavailable, never sent.",
    (dependency) => dependency.breakerRejections,
  );
  counter(
    "svc_client_retries_total",
    "Total number of retry attempts (attempts after a call's first) sent to the dependency.",
    (dependency) => dependency.retries,
  );
  counter(
    "svc_client_retries_throttled_total",
    "Total number of retries not made because retry throttling had too few tokens left.",
    (dependency) => dependency.retriesThrottled,
  );
  gauge(
    "svc_client_retry_tokens",
    "Retry tokens left for the dependency; retries stop at half of retryThrottling.maxTokens or fewer.",
    (dependency) => dependency.retryTokens,
  );
  gauge(
    "svc_client_instances",
    "Instances of the dependency known now, discovered or configured.",
    (dependency) => dependency.instances,
  );
  gauge(
    "svc_client_ejected_instances",
    "Instances of the dependency outlier detection has ejected now, so calls skip them.",
    (dependency) => dependency.ejectedInstances,
  );
  counter(
    "svc_client_ejections_total",
    "Total number of instance ejections by outlier detection.",
    (dependency) => dependency.ejections,
  );
}
