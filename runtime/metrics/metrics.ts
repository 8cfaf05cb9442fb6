/**
 * Prometheus metrics for the server: go-grpc-prometheus's names and labels
 * (so existing Grafana dashboards work), plus svc's own and process metrics.
 * @module
 */
import type { MemoryBudget } from "../util/memory_budget.ts";
import { GO_CODE_NAMES, Status } from "../core/errors.ts";
import type { CallKind } from "../protos/types.ts";
import type { CallObserver } from "../server/observer.ts";
import {
  addMethod,
  addTiming,
  createGrpcStats,
  type GrpcStats,
  HANDLING_BUCKETS,
  type MethodStats,
} from "./grpc_stats.ts";
import type {
  MetricValues,
  OverloadReadings,
  RenderedRegistry,
  TracingReadings,
} from "./prometheus_registry.ts";
import { type Labels, observe, type SeriesValue } from "./snapshot_values.ts";

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
  /** The process's memory budget, exported as `svc_memory_*`. */
  memory?: MemoryBudget;
  /** The overload limiter, exported as `svc_overload_*`. */
  overload?: OverloadReadings;
  /** The span exporter, exported as `svc_tracing_*`. */
  tracing?: TracingReadings;
}

/** The server's metrics, on a registry of their own. */
export interface Metrics {
  /** Records started, handled, latency, messages and in-flight calls. */
  readonly observer: CallObserver;
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
 * const observer = metrics.observer; // given to the call runner
 * const { contentType, body } = await metrics.render();
 * ```
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const stats = createGrpcStats(options.handlingTimeWithCode ?? false);
  for (const method of options.methods) addMethod(stats, method.service, method.name, method.kind);
  const values: MetricValues = {
    stats,
    rejections: [],
    registry: { registered: 0, registrations: 0, failures: 0 },
    defaultMetrics: options.defaultMetrics ?? true,
    memory: options.memory ?? null,
    overload: options.overload ?? null,
    tracing: options.tracing ?? null,
  };
  const onRateLimitReject = _rateLimitRejections(values.rejections);
  let lateMethods = 0;
  // prom-client and the process metrics load on the first scrape: importing
  // prom-client is ~30 ms of a cold start, and calls only bump numbers.
  let rendered: Promise<RenderedRegistry> | null = null;

  /** The record for a method not in `options.methods`; null past the cap. */
  function lateMethod(service: string, name: string, kind: CallKind): MethodStats | null {
    if (lateMethods >= _MAX_LATE_METHODS) return null;
    lateMethods++;
    return addMethod(stats, service, name, kind);
  }

  return {
    observer: _observer(stats, lateMethod),
    onRateLimitReject,
    setRegistryRegistered(value) {
      values.registry.registered = value ? 1 : 0;
    },
    onRegistryRegistration() {
      values.registry.registrations++;
    },
    onRegistryFailure() {
      values.registry.failures++;
    },
    async render() {
      const { registry, sample } =
        await (rendered ??= import("./prometheus_registry.ts").then((m) =>
          m.createRegistry(values)
        ));
      await sample();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** The per-call hot path: a map lookup and number bumps at each end. */
function _observer(
  stats: GrpcStats,
  lateMethod: (service: string, name: string, kind: CallKind) => MethodStats | null,
): CallObserver {
  return {
    started(call) {
      const method = stats.byPath.get(call.method) ??
        lateMethod(call.service, call.methodName, call.kind);
      if (method === null) return;
      method.started++;
      method.inFlight++;
      stats.inFlight++;
    },
    finished(call, code, durationMs) {
      // Past the late-method cap, started() counted nothing either.
      const method = stats.byPath.get(call.method);
      if (method === undefined) return;
      // A code outside 0..16 cannot be labelled by name; grpc-go would also see it as Unknown.
      if (!(code >= 0 && code < GO_CODE_NAMES.length && (code | 0) === code)) {
        code = Status.UNKNOWN;
      }
      method.inFlight--;
      stats.inFlight--;
      method.handled[code]++;
      method.received += call.messagesReceived;
      method.sent += call.messagesSent;
      observe(
        method.timing[code] ?? addTiming(stats, method, code),
        HANDLING_BUCKETS,
        durationMs / 1e3,
      );
    },
  };
}

/**
 * The function that counts a rate-limit rejection into `all`. The series sit
 * in maps keyed limit → service → method, so a rejection under overload
 * builds no key strings.
 */
function _rateLimitRejections(
  all: SeriesValue[],
): (limit: string, service: string, method: string) => void {
  type Series = { labels: Labels; value: number };
  const byLimit = new Map<string, Map<string, Map<string, Series>>>();
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
