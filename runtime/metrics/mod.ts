/**
 * Prometheus metrics: go-grpc-prometheus's gRPC server and client metrics,
 * svc's own, and process metrics, on a registry per {@link createMetrics} call.
 * @module
 */
export { createMetrics, type Metrics, type MetricsMethod, type MetricsOptions } from "./metrics.ts";
export type { ClientReadings, DependencyReadings } from "./client_metrics.ts";
