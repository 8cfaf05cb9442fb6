/**
 * Prometheus metrics for the server: go-grpc-prometheus's names and labels
 * (so existing Grafana dashboards work), plus svc's own and process metrics.
 * @module
 */
import { Counter, Gauge, Registry } from "prom-client";
import { GO_CODE_NAMES, Status } from "../errors.ts";
import type { CallKind } from "../protos/types.ts";
import type { Interceptor } from "../server/interceptor.ts";
import { toRpcError } from "../server/status.ts";
import {
  addMethod,
  addTiming,
  createGrpcStats,
  type GrpcStats,
  HANDLING_BUCKETS,
  type MethodStats,
} from "./grpc_stats.ts";
import { createProcessMetrics } from "./process.ts";
import {
  observe,
  type SeriesValue,
  SnapshotCounter,
  SnapshotGauge,
  SnapshotHistogram,
} from "./snapshot.ts";

/** A method to pre-initialise series for (a `MethodDescriptor` fits). */
export interface MetricsMethod {
  readonly service: string;
  readonly name: string;
  readonly kind: CallKind;
}

/** Options for {@link createMetrics}. */
export interface MetricsOptions {
  /** Every served method; each gets its series at zero before the first call. */
  methods: readonly MetricsMethod[];
  /** Adds `grpc_code` to `grpc_server_handling_seconds`. Default false (as go-grpc-prometheus). */
  handlingTimeWithCode?: boolean;
  /** Process, V8 heap and event-loop metrics. Default true. */
  defaultMetrics?: boolean;
}

/** The server's metrics, on a registry of their own. */
export interface Metrics {
  /** The registry every metric is on; add more metrics to it if needed. */
  readonly registry: Registry;
  /** Records started, handled, latency, messages and in-flight calls; one instance serves any chain. */
  interceptor(): Interceptor;
  /** Counts a call a rate limit rejected; `limit` names the limit, e.g. `perMethod`. */
  onRateLimitReject(limit: string, service: string, method: string): void;
  /** Sets `svc_registry_registered` to 1 (key in the registry) or 0. */
  setRegistryRegistered(registered: boolean): void;
  /** Counts a successful registration (key put with a lease). */
  onRegistryRegistration(): void;
  /** Counts a failed registration or keep-alive attempt. */
  onRegistryFailure(): void;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<{ contentType: string; body: string }>;
}

/**
 * Methods added on their first call when not in `options.methods`, at most
 * this many, so arbitrary method names cannot grow the series without bound.
 */
const _MAX_LATE_METHODS = 256;

/**
 * Creates the metrics on a new prom-client `Registry`, so several can
 * coexist (one per server, or per test).
 *
 * @example
 * ```ts
 * import { createMetrics } from "./mod.ts";
 * const metrics = createMetrics({
 *   methods: [{ service: "helloworld.Greeter", name: "SayHello", kind: "unary" }],
 * });
 * const interceptors = [metrics.interceptor()];
 * const { contentType, body } = await metrics.render();
 * ```
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const stats = createGrpcStats(options.handlingTimeWithCode ?? false);
  for (const method of options.methods) addMethod(stats, method.service, method.name, method.kind);
  _registerGrpcMetrics(registry, stats);

  const onRateLimitReject = _rateLimitRejections(registry);

  const registered = new Gauge({
    name: "svc_registry_registered",
    help: "1 while this instance is registered in the service registry, else 0.",
    registers: [registry],
  });
  const registrations = new Counter({
    name: "svc_registry_registrations_total",
    help: "Total number of successful registrations in the service registry.",
    registers: [registry],
  });
  const failures = new Counter({
    name: "svc_registry_failures_total",
    help: "Total number of failed registration or keep-alive attempts with the service registry.",
    registers: [registry],
  });

  const processMetrics = (options.defaultMetrics ?? true) ? createProcessMetrics(registry) : null;
  let lateMethods = 0;

  /** The record for a method not in `options.methods`; null past the cap. */
  function lateMethod(service: string, name: string, kind: CallKind): MethodStats | null {
    if (lateMethods >= _MAX_LATE_METHODS) return null;
    lateMethods++;
    return addMethod(stats, service, name, kind);
  }

  return {
    registry,
    interceptor() {
      return _interceptor(stats, lateMethod);
    },
    onRateLimitReject,
    setRegistryRegistered(value) {
      registered.set(value ? 1 : 0);
    },
    onRegistryRegistration() {
      registrations.inc();
    },
    onRegistryFailure() {
      failures.inc();
    },
    async render() {
      await processMetrics?.sample();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** The per-call hot path: map lookup, number bumps, one clock read at each end. */
function _interceptor(
  stats: GrpcStats,
  lateMethod: (service: string, name: string, kind: CallKind) => MethodStats | null,
): Interceptor {
  return (next) =>
    async function metered(call) {
      const method = stats.byPath.get(call.method) ??
        lateMethod(call.service, call.methodName, call.kind);
      if (method === null) return await next(call);
      method.started++;
      method.inFlight++;
      stats.inFlight++;
      const start = performance.now();
      let code: number = Status.OK;
      try {
        await next(call);
      } catch (thrown) {
        code = toRpcError(thrown, call.signal, call.deadline).code;
        // A code outside 0..16 cannot be labelled by name; grpc-go would also see it as Unknown.
        if (!(code >= 0 && code < GO_CODE_NAMES.length && (code | 0) === code)) {
          code = Status.UNKNOWN;
        }
        throw thrown;
      } finally {
        const seconds = (performance.now() - start) / 1e3;
        method.inFlight--;
        stats.inFlight--;
        method.handled[code]++;
        method.received += call.messagesReceived;
        method.sent += call.messagesSent;
        observe(method.timing[code] ?? addTiming(stats, method, code), HANDLING_BUCKETS, seconds);
      }
    };
}

/**
 * `svc_rate_limit_rejections_total`, and the function that counts one. The
 * series sit in maps keyed limit → service → method, so a rejection under
 * overload builds no key strings.
 */
function _rateLimitRejections(
  registry: Registry,
): (limit: string, service: string, method: string) => void {
  type Series = { labels: SeriesValue["labels"]; value: number };
  const byLimit = new Map<string, Map<string, Map<string, Series>>>();
  const all: Series[] = [];
  new SnapshotCounter({
    name: "svc_rate_limit_rejections_total",
    help: "Total number of calls rejected with ResourceExhausted by a rate limit.",
    labelNames: ["limit", "grpc_service", "grpc_method"],
    registry,
  }, () => all);
  return function onRateLimitReject(limit, service, method) {
    let byService = byLimit.get(limit);
    if (!byService) byLimit.set(limit, byService = new Map());
    let byMethod = byService.get(service);
    if (!byMethod) byService.set(service, byMethod = new Map());
    let series = byMethod.get(method);
    if (!series) {
      const labels = Object.freeze({ limit, grpc_service: service, grpc_method: method });
      byMethod.set(method, series = { labels, value: 0 });
      all.push(series);
    }
    series.value++;
  };
}

/** The go-grpc-prometheus metrics (names, labels and help texts as in its server_metrics.go). */
function _registerGrpcMetrics(registry: Registry, stats: GrpcStats): void {
  const labelNames = ["grpc_type", "grpc_service", "grpc_method"];
  const perMethod = (read: (method: MethodStats) => number) => (): SeriesValue[] =>
    stats.methods.map((method) => ({ labels: method.labels, value: read(method) }));
  new SnapshotCounter({
    name: "grpc_server_started_total",
    help: "Total number of RPCs started on the server.",
    labelNames,
    registry,
  }, perMethod((method) => method.started));
  new SnapshotCounter(
    {
      name: "grpc_server_handled_total",
      help: "Total number of RPCs completed on the server, regardless of success or failure.",
      labelNames: [...labelNames, "grpc_code"],
      registry,
    },
    () =>
      stats.methods.flatMap((method) =>
        method.codeLabels.map((labels, code) => ({ labels, value: method.handled[code] }))
      ),
  );
  new SnapshotCounter({
    name: "grpc_server_msg_received_total",
    help: "Total number of RPC stream messages received on the server.",
    labelNames,
    registry,
  }, perMethod((method) => method.received));
  new SnapshotCounter({
    name: "grpc_server_msg_sent_total",
    help: "Total number of gRPC stream messages sent by the server.",
    labelNames,
    registry,
  }, perMethod((method) => method.sent));
  new SnapshotHistogram({
    name: "grpc_server_handling_seconds",
    help:
      "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
    labelNames: stats.withCode ? [...labelNames, "grpc_code"] : labelNames,
    buckets: HANDLING_BUCKETS,
    registry,
  }, () => stats.timings);
  new SnapshotGauge({
    name: "svc_server_in_flight_calls",
    help: "Number of calls the server is handling now.",
    labelNames: [],
    registry,
  }, () => [{ labels: {}, value: stats.inFlight }]);
  new SnapshotGauge({
    name: "svc_server_method_in_flight_calls",
    help: "Number of calls the server is handling now, per method.",
    labelNames,
    registry,
  }, perMethod((method) => method.inFlight));
}
