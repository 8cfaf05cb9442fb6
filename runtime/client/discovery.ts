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
import type { ResolvedRegistry } from "../config/types.ts";
import type { Logger } from "../core/logger.ts";
import type { MethodDescriptor } from "../protos/types.ts";
import { type Balancing, InstancePool } from "./balancer.ts";
import { createEtcdClient, etcdEndpointIssues, servicePrefix } from "../etcd/etcd_client.ts";
import { createEtcdResolver, createStaticResolver, type Resolver } from "./resolver.ts";
import type { OutgoingTracer, ServiceClient } from "../core/clients.ts";
import { type Clients, undeclaredDependency } from "./clients.ts";
import { type Connection, createServiceClient } from "./service_client.ts";

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
}

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

  for (const [service, dep] of dependencies) {
    const credentials = _credentials(dep.tls ?? null, readFile);
    const channelOptions: grpc.ChannelOptions = dep.tls?.serverName
      ? { "grpc.ssl_target_name_override": dep.tls.serverName }
      : {};
    const pool = new InstancePool(
      (address) => new grpc.Client(address, credentials, channelOptions),
      dep.balancing ?? "round_robin",
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
    connections.set(service, {
      service,
      pool,
      resolver,
      log,
      methods: dep.methods,
      tracer: options.tracer ?? null,
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
