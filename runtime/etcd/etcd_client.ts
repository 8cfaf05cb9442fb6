/**
 * Builds the etcd3 client the registrar and the discovery clients use, from
 * `registry` config: endpoints, auth, TLS, and deadlines on every unary call.
 * @module
 */
import { Buffer } from "node:buffer";
import type { Etcd3, IOptions } from "etcd3";
import type { ResolvedRegistry } from "../config/types.ts";

type Faults = NonNullable<IOptions["faultHandling"]>;
type Policy = NonNullable<Faults["global"]>;
type WatchBackoff = NonNullable<Faults["watchBackoff"]>;

/** Options for {@link createEtcdClient}. */
export interface EtcdClientOptions {
  /** gRPC deadline of every unary etcd call (streams have none). Default 5 s. */
  callTimeoutMs?: number;
  /** Reads a TLS file; tests replace it. Default `Deno.readFileSync`. */
  readFile?: (path: string) => Uint8Array;
}

let _etcd3: Promise<typeof import("etcd3")> | undefined;

/**
 * etcd3 and the gRPC stack it brings take ~100 ms to import, a third of a
 * cold start; a service that neither registers nor discovers through etcd
 * never pays for it. A literal specifier, so `deno compile` still embeds it.
 */
function _loadEtcd3(): Promise<typeof import("etcd3")> {
  return _etcd3 ??= import("etcd3");
}

/**
 * Creates an etcd3 client for `registry` (importing etcd3 on first use).
 *
 * - Every unary call carries a gRPC deadline (`callTimeoutMs`), because
 *   etcd3 sets none and a frozen etcd would otherwise hang it forever.
 * - etcd3's own retry and circuit-breaker policies are replaced by a
 *   pass-through: the registrar and resolvers retry with their own
 *   backoff, and the default breaker would refuse every call for 5 s after
 *   etcd comes back, delaying re-registration.
 * - Watch streams reconnect after 100 ms, doubling to 2 s, jittered (etcd3's
 *   default grows to 30 s, far too long for discovery).
 * - HTTP/2 keepalive pings find a dead etcd connection in about 15 s. 10 s
 *   stays above etcd's default `--grpc-keepalive-min-time` (5 s).
 *
 * @example
 * ```ts
 * const etcd = await createEtcdClient(config.registry);
 * try { await etcd.get("services/x").string(); } finally { etcd.close(); }
 * ```
 */
export async function createEtcdClient(
  registry: ResolvedRegistry,
  options: EtcdClientOptions = {},
): Promise<Etcd3> {
  const callTimeoutMs = options.callTimeoutMs ?? 5_000;
  const readFile = options.readFile ?? Deno.readFileSync;
  const etcdOptions: IOptions = {
    hosts: registry.endpoints,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + callTimeoutMs },
    faultHandling: {
      host: () => _PASS_THROUGH,
      global: _PASS_THROUGH,
      watchBackoff: _watchBackoff(0),
    },
    grpcOptions: {
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 5_000,
    },
  };
  if (registry.auth) {
    etcdOptions.auth = {
      username: registry.auth.username,
      password: registry.auth.password,
      // A function, so every token exchange gets a fresh deadline.
      callOptions: () => ({ deadline: Date.now() + callTimeoutMs }),
    };
  }
  const tls = registry.tls;
  if (tls) {
    const read = (path: string | null) => path === null ? undefined : Buffer.from(readFile(path));
    etcdOptions.credentials = {
      // etcd3 types the CA as required, but grpc-js falls back to the system
      // roots when it is undefined, which is what a public CA needs.
      rootCertificate: read(tls.ca) as Buffer,
      privateKey: read(tls.key),
      certChain: read(tls.cert),
    };
  }
  const { Etcd3 } = await _loadEtcd3();
  return new Etcd3(etcdOptions);
}

/**
 * Problems with `registry.endpoints` that would make every etcd call fail,
 * one message each; empty when there are none. With TLS (an `https://`
 * endpoint or `registry.tls`), an IP address cannot be dialled: grpc-js
 * sends the host as the TLS server name, and Deno's `node:tls` refuses an
 * IP there ("options.servername must not be an IP address"). Use a DNS name
 * that etcd's certificate lists.
 *
 * @example
 * ```ts
 * for (const issue of etcdEndpointIssues(config.registry)) log.warn(issue);
 * ```
 */
export function etcdEndpointIssues(registry: ResolvedRegistry): string[] {
  const issues: string[] = [];
  for (const endpoint of registry.endpoints) {
    const secure = registry.tls !== null || endpoint.startsWith("https://");
    const host = endpoint.replace(/^[a-z]+:\/\//, "").replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
    if (secure && (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":"))) {
      issues.push(
        `registry.endpoints: "${endpoint}" uses TLS with an IP address, which Deno cannot verify; ` +
          `use a DNS name from etcd's certificate (e.g. https://localhost:2379)`,
      );
    }
  }
  return issues;
}

/** `<prefix>/<service>/`, the directory a service's instances live in; no double slashes. */
export function servicePrefix(prefix: string, service: string): string {
  const trimmed = prefix.replace(/\/+$/, "");
  return trimmed === "" ? `${service}/` : `${trimmed}/${service}/`;
}

// --- private helpers ---------------------------------------------------------

const _NEVER = new AbortController().signal;

/** A cockatiel policy that runs the call once: no retries, no breaker. */
const _PASS_THROUGH = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T) =>
    Promise.resolve().then(() => fn({ signal: _NEVER })),
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
} as unknown as Policy;

function _watchBackoff(attempt: number): WatchBackoff {
  const ceiling = Math.min(2_000, 100 * 2 ** attempt);
  return {
    duration: Math.round(ceiling / 2 + Math.random() * ceiling / 2),
    next: () => _watchBackoff(Math.min(attempt + 1, 10)),
  };
}
