/**
 * Prometheus metrics for the server and its calls to other services:
 * go-grpc-prometheus's names and labels (so existing Grafana dashboards
 * work), plus svc's own and process metrics.
 * @module
 */
import type { MemoryBudget } from "../util/memory_budget.ts";
import type { ClientObserver } from "../core/clients.ts";
import type { CallKind } from "../protos/types.ts";
import type { CallObserver } from "../server/observer.ts";
import type { ClientReadings } from "./client_metrics.ts";
import type { MemoryLimitReadings } from "./memory_limit.ts";
import { addMethod, createGrpcStats, type GrpcStats } from "./grpc_stats.ts";
import type {
  ClientMetricValues,
  MetricValues,
  OverloadReadings,
  RenderedRegistry,
  TracingReadings,
} from "./prometheus_registry.ts";
import type { Labels, SeriesValue } from "./snapshot_values.ts";
import { createStatsObserver } from "./stats_observer.ts";
import { lazyModule } from "../util/descriptor_headroom.ts";

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
  /** The memory-limit guard, exported as `svc_memory_limit_*` (memory_limit.ts). */
  memoryLimit?: MemoryLimitReadings;
  /** The span exporter, exported as `svc_tracing_*`. */
  tracing?: TracingReadings;
  /**
   * Every method of every dependency; each gets its `grpc_client_*` series
   * at zero before the first call.
   */
  clientMethods?: readonly MetricsMethod[];
  /** The dependencies' breaker, retry and ejection figures, exported as `svc_client_*`. */
  clients?: ClientReadings | null;
}

/** The server's metrics, on a registry of their own. */
export interface Metrics {
  /** Records started, handled, latency, messages and in-flight calls. */
  readonly observer: CallObserver;
  /**
   * Records calls to other services as `grpc_client_*`. Counts nothing (and
   * nothing is rendered) unless `clientMethods` or `clients` were given.
   */
  readonly clientObserver: ClientObserver;
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
  /** Every metric as prom-client JSON (`Registry.getMetricsAsJSON()`), for aggregation across workers. */
  renderJson(): Promise<unknown[]>;
}

/** The client observer of a service that calls no other: a call to it does nothing. */
const _NO_CLIENT_OBSERVER: ClientObserver = Object.freeze({
  started() {},
  finished() {},
});

/**
 * Creates the metrics on a new prom-client `Registry`, so several can
 * coexist (one per server, or per test).
 *
 * @example
 * ```ts
 * import { createMetrics } from "./mod.ts";
 * const metrics = createMetrics({
 *   methods: [{ service: "helloworld.Greeter", name: "SayHello", kind: "unary" }],
 *   clientMethods: [{ service: "demo.Backend", name: "Echo", kind: "unary" }],
 * });
 * const observer = metrics.observer; // given to the call runner
 * const clientObserver = metrics.clientObserver; // given to the dependency clients
 * const { contentType, body } = await metrics.render();
 * ```
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const stats = _statsFor(options.methods, options.handlingTimeWithCode ?? false);
  const clientMethods = options.clientMethods ?? [];
  const clientReadings = options.clients ?? null;
  // A service that calls no other shows no grpc_client_* lines at all. The
  // client histogram never carries grpc_code, as go-grpc-prometheus's does not.
  const client: ClientMetricValues | null = clientMethods.length > 0 || clientReadings !== null
    ? { stats: _statsFor(clientMethods, false), readings: clientReadings }
    : null;
  const values: MetricValues = {
    stats,
    rejections: [],
    registry: { registered: 0, registrations: 0, failures: 0 },
    defaultMetrics: options.defaultMetrics ?? true,
    memory: options.memory ?? null,
    overload: options.overload ?? null,
    memoryLimit: options.memoryLimit ?? null,
    tracing: options.tracing ?? null,
    client,
  };
  const onRateLimitReject = _rateLimitRejections(values.rejections);
  // prom-client and the process metrics load on the first scrape: importing
  // prom-client is ~30 ms of a cold start, and calls only bump numbers.
  let rendered: Promise<RenderedRegistry> | null = null;
  const registryOnce = () =>
    rendered ??= createRegistry(values).catch((error) => {
      // Not kept: a load that failed (e.g. EMFILE) is tried again by the next scrape.
      rendered = null;
      throw error;
    });

  return {
    observer: createStatsObserver(stats),
    clientObserver: client ? createStatsObserver(client.stats) : _NO_CLIENT_OBSERVER,
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
      const { registry, sample } = await registryOnce();
      await sample();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    async renderJson() {
      const { registry, sample } = await registryOnce();
      await sample();
      return await registry.getMetricsAsJSON();
    },
  };
}

/**
 * Loads prom-client and the registry builder: at the first scrape, or
 * earlier from app/warm_lazy_modules.ts so a scrape needs no module load.
 */
export const warmMetricsRegistry: () => Promise<typeof import("./prometheus_registry.ts")> =
  lazyModule(() => import("./prometheus_registry.ts"), "the metrics registry");

function createRegistry(values: MetricValues): Promise<RenderedRegistry> {
  return warmMetricsRegistry().then((m) => m.createRegistry(values));
}

/** Statistics with every one of `methods` pre-initialised at zero. */
function _statsFor(methods: readonly MetricsMethod[], withCode: boolean): GrpcStats {
  const stats = createGrpcStats(withCode);
  for (const method of methods) addMethod(stats, method.service, method.name, method.kind);
  return stats;
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
