/**
 * Clients for the services a handler calls (its dependencies), resolved from
 * etcd or a static list and balanced across instances. Handlers reach them
 * as `ctx.clients.get("pkg.Service")`; those calls inherit the handler's
 * deadline and cancellation.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { Etcd3 } from "etcd3";
import type {
  ResolvedDependency,
  ResolvedOutlierDetection,
  ResolvedRegistry,
} from "../config/types.ts";
import type { Logger } from "../core/logger.ts";
import type { MethodDescriptor } from "../protos/types.ts";
import { type Balancing, InstancePool } from "./balancer.ts";
import { createEtcdClient, etcdEndpointIssues, servicePrefix } from "../etcd/etcd_client.ts";
import { createEtcdResolver, createStaticResolver, type Resolver } from "./resolver.ts";
import type {
  ClientInterceptor,
  ClientObserver,
  OutgoingTracer,
  ServiceClient,
} from "../core/clients.ts";
import { type Clients, type DependencyReadings, undeclaredDependency } from "./clients.ts";
import { type Connection, createServiceClient } from "./service_client.ts";
import { AdaptiveBreaker, BREAKER_DEFAULTS } from "./breaker.ts";
import { composeClientChain } from "./chain.ts";
import { retryPolicyFor } from "./retry_policy.ts";
import { RetryThrottle } from "./retry_throttle.ts";

/** TLS for calls to a dependency; PEM file paths. */
export interface DependencyTls {
  /** CA bundle that verifies the servers; null = system roots. */
  ca: string | null;
  /** Client certificate and key, for mTLS; both or neither. */
  cert: string | null;
  key: string | null;
  /**
   * Name to verify the servers' certificates against (and send as SNI).
   * Needed when instances register IP addresses: Deno's `node:tls` refuses
   * an IP as server name, so TLS to a bare IP fails without it.
   */
  serverName?: string | null;
}

/** One dependency: its methods (from its .proto) and how to find it. */
export interface DependencyOptions {
  methods: readonly MethodDescriptor[];
  /** Fixed `host:port` list. Empty or absent: resolve from etcd under `registry.prefix`. */
  static?: readonly string[];
  /** Default `round_robin`. */
  balancing?: Balancing;
  /** Default null: plaintext. */
  tls?: DependencyTls | null;
  /** Default deadline (ms) of unary calls whose caller has none; 0 = none. Default 10 s. */
  timeout?: number;
  /** The same for streaming calls. Default 0. */
  streamTimeout?: number;
  /** Retry policy for every method; null (default) = idempotent methods get the defaults. */
  retry?: ResolvedDependency["retry"];
  /** Default `{ maxTokens: 10, tokenRatio: 0.1 }`. */
  retryThrottling?: ResolvedDependency["retryThrottling"];
  /** Default: enabled, the config's defaults. */
  circuitBreaker?: ResolvedDependency["circuitBreaker"];
  /** Default: enabled, the config's defaults. */
  outlierDetection?: ResolvedOutlierDetection;
}

/** The config's defaults, for dependencies built in code (tests). */
const DEFAULT_THROTTLING = { maxTokens: 10, tokenRatio: 0.1 };
const DEFAULT_BREAKER = {
  enabled: true,
  window: BREAKER_DEFAULTS.windowMs,
  k: BREAKER_DEFAULTS.k,
  minRequests: BREAKER_DEFAULTS.minRequests,
};
const DEFAULT_OUTLIER: ResolvedOutlierDetection = {
  enabled: true,
  interval: 10_000,
  baseEjectionTime: 30_000,
  maxEjectionTime: 300_000,
  maxEjectionPercent: 50,
  failurePercentage: 50,
  minimumHosts: 3,
  requestVolume: 20,
};

/** Options for {@link createClients}. */
export interface ClientsOptions {
  /** etcd endpoints, prefix, auth and TLS; used even when `type` is `none` (discovery without registering). */
  registry: ResolvedRegistry;
  /** By fully-qualified service name. */
  dependencies: ReadonlyMap<string, DependencyOptions>;
  log: Logger;
  /** Reads TLS files. Default `Deno.readFileSync`. */
  readFile?: (path: string) => Uint8Array;
  /** Traces every call (tracing on). Default none. */
  tracer?: OutgoingTracer | null;
  /** Counts every call (metrics on). Default none. */
  observer?: ClientObserver | null;
  /** Client middleware, outermost first. Default none. */
  interceptors?: readonly ClientInterceptor[];
}

/**
 * Creates the clients and starts resolving every dependency at once, so the
 * first call usually finds instances ready.
 *
 * @example
 * ```ts
 * const clients = createClients({ registry: config.registry, dependencies, log });
 * const backend = clients.forCall(ctx).get("demo.Backend");
 * const reply = await backend.echo({ text: "hi" });
 * await clients.close();
 * ```
 */
export function createClients(options: ClientsOptions): Clients {
  const { registry, dependencies } = options;
  const log = options.log.child({ component: "discovery" });
  const readFile = options.readFile ?? Deno.readFileSync;
  let etcd: Promise<Etcd3> | null = null;
  const connections = new Map<string, Connection & { methods: readonly MethodDescriptor[] }>();

  const middleware = { chain: composeClientChain(options.interceptors ?? []) };
  const readings: DependencyReadings[] = [];

  for (const [service, dep] of dependencies) {
    const credentials = _credentials(dep.tls ?? null, readFile);
    const channelOptions: grpc.ChannelOptions = dep.tls?.serverName
      ? { "grpc.ssl_target_name_override": dep.tls.serverName }
      : {};
    const outlier = dep.outlierDetection ?? DEFAULT_OUTLIER;
    const pool = new InstancePool(
      (address) => new grpc.Client(address, credentials, channelOptions),
      {
        balancing: dep.balancing ?? "round_robin",
        outlier: outlier.enabled ? outlier : null,
        onEjection: (address, ms) =>
          ms === null
            ? log.info("discovery: ejected instance returns", { service, address })
            : log.warn("discovery: ejecting an outlier instance", { service, address, ms }),
      },
    );
    const onChange = (addresses: readonly string[]) => pool.update(addresses);
    let resolver: Resolver;
    if (dep.static && dep.static.length > 0) {
      resolver = createStaticResolver(dep.static, onChange);
    } else {
      if (!etcd) {
        for (const issue of etcdEndpointIssues(registry)) log.warn(`discovery: ${issue}`);
        etcd = createEtcdClient(registry);
      }
      const dir = servicePrefix(registry.prefix, service);
      resolver = createEtcdResolver({ etcd, dir, log, onChange });
    }
    const breakerOptions = dep.circuitBreaker ?? DEFAULT_BREAKER;
    const breaker = breakerOptions.enabled
      ? new AdaptiveBreaker({
        windowMs: breakerOptions.window,
        k: breakerOptions.k,
        minRequests: breakerOptions.minRequests,
      })
      : null;
    const throttle = new RetryThrottle(dep.retryThrottling ?? DEFAULT_THROTTLING);
    const retryPolicies = new Map();
    for (const method of dep.methods) {
      const policy = retryPolicyFor(dep.retry ?? null, method.idempotent);
      if (policy) retryPolicies.set(method.path, policy);
    }
    const conn = {
      service,
      pool,
      resolver,
      log,
      methods: dep.methods,
      tracer: options.tracer ?? null,
      observer: options.observer ?? null,
      timeouts: { unary: dep.timeout ?? 10_000, stream: dep.streamTimeout ?? 0 },
      breaker,
      throttle,
      retryPolicies,
      counters: { retries: 0 },
      middleware,
    };
    connections.set(service, conn);
    readings.push({
      service,
      get breakerDropRatio() {
        return breaker?.dropRatio ?? 0;
      },
      get breakerRejections() {
        return breaker?.rejections ?? 0;
      },
      get retries() {
        return conn.counters.retries;
      },
      get retriesThrottled() {
        return throttle.throttled;
      },
      get retryTokens() {
        return throttle.tokens;
      },
      get instances() {
        return pool.size;
      },
      get ejectedInstances() {
        return pool.ejectedCount;
      },
      get ejections() {
        return pool.ejections;
      },
    });
  }

  const unbound = new Map<string, ServiceClient>();
  const connection = (service: string) => {
    const conn = connections.get(service);
    if (conn) return conn;
    throw undeclaredDependency(service, [...connections.keys()]);
  };

  let closing: Promise<void> | null = null;
  const clients: Clients = {
    services: [...connections.keys()],
    get<T extends object = ServiceClient>(service: string): T {
      let client = unbound.get(service);
      if (!client) {
        const conn = connection(service);
        client = createServiceClient(conn, conn.methods);
        unbound.set(service, client);
      }
      return client as T;
    },
    forCall(parent) {
      // Built per handler call, so only what the handler asks for is made.
      const bound = new Map<string, ServiceClient>();
      return {
        get<T extends object = ServiceClient>(service: string): T {
          let client = bound.get(service);
          if (!client) {
            const conn = connection(service);
            client = createServiceClient(conn, conn.methods, parent);
            bound.set(service, client);
          }
          return client as T;
        },
      };
    },
    instances: (service) => connection(service).pool.addresses,
    setInterceptors(interceptors) {
      middleware.chain = composeClientChain(interceptors);
    },
    readings: { dependencies: readings },
    close() {
      return closing ??= (async () => {
        await Promise.all([...connections.values()].map((c) => c.resolver.close()));
        for (const conn of connections.values()) conn.pool.close();
        // A client that failed to build was reported by its resolvers.
        (await etcd?.catch(() => null))?.close();
      })();
    },
    [Symbol.asyncDispose]() {
      return clients.close();
    },
  };
  return clients;
}

// --- private helpers ---------------------------------------------------------

function _credentials(
  tls: DependencyTls | null,
  readFile: (path: string) => Uint8Array,
): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  const read = (path: string | null) => path === null ? null : Buffer.from(readFile(path));
  return grpc.credentials.createSsl(read(tls.ca), read(tls.key), read(tls.cert));
}
