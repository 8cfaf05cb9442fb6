/**
 * go-grpc-prometheus's per-method series, for either side of a call: the
 * names, labels and help texts of its server_metrics.go and
 * client_metrics.go, so the usual dashboards work on both. One definition
 * serves the server's metrics (prometheus_registry.ts) and the clients'
 * (client_metrics.ts); only the words differ.
 * @module
 */
import type { Registry } from "prom-client";
import { type GrpcStats, HANDLING_BUCKETS, type MethodStats } from "./grpc_stats.ts";
import { type SeriesValue, SnapshotCounter, SnapshotHistogram } from "./snapshot.ts";

/** Which side's series: `grpc_server_*` or `grpc_client_*`. */
export type CallSide = "server" | "client";

/** go-grpc-prometheus's help texts, word for word. */
const HELP: Record<CallSide, Record<string, string>> = {
  server: {
    started: "Total number of RPCs started on the server.",
    handled: "Total number of RPCs completed on the server, regardless of success or failure.",
    received: "Total number of RPC stream messages received on the server.",
    sent: "Total number of gRPC stream messages sent by the server.",
    handling:
      "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
  },
  client: {
    started: "Total number of RPCs started on the client.",
    handled: "Total number of RPCs completed by the client, regardless of success or failure.",
    received: "Total number of RPC stream messages received by the client.",
    sent: "Total number of gRPC stream messages sent by the client.",
    handling:
      "Histogram of response latency (seconds) of the gRPC until it is finished by the application.",
  },
};

/** The per-method labels every series has. */
export const METHOD_LABELS: readonly string[] = ["grpc_type", "grpc_service", "grpc_method"];

/** One series per method, read from `stats` at scrape time. */
export function perMethod(
  stats: GrpcStats,
  read: (method: MethodStats) => number,
): () => SeriesValue[] {
  return () => stats.methods.map((method) => ({ labels: method.labels, value: read(method) }));
}

/**
 * Registers started, handled, messages received and sent, and the handling
 * histogram (labelled by code too when `stats.withCode`) for `side`.
 */
export function registerGrpcSeries(registry: Registry, stats: GrpcStats, side: CallSide): void {
  const help = HELP[side];
  const labelNames = [...METHOD_LABELS];
  const counter = (what: string, read: (method: MethodStats) => number) =>
    new SnapshotCounter({
      name: `grpc_${side}_${what === "started" ? "started" : `msg_${what}`}_total`,
      help: help[what],
      labelNames,
      registry,
    }, perMethod(stats, read));
  counter("started", (method) => method.started);
  new SnapshotCounter(
    {
      name: `grpc_${side}_handled_total`,
      help: help.handled,
      labelNames: [...labelNames, "grpc_code"],
      registry,
    },
    () =>
      stats.methods.flatMap((method) =>
        method.codeLabels.map((labels, code) => ({ labels, value: method.handled[code] }))
      ),
  );
  counter("received", (method) => method.received);
  counter("sent", (method) => method.sent);
  new SnapshotHistogram({
    name: `grpc_${side}_handling_seconds`,
    help: help.handling,
    labelNames: stats.withCode ? [...labelNames, "grpc_code"] : labelNames,
    buckets: HANDLING_BUCKETS,
    registry,
  }, () => stats.timings);
}
