/**
 * Registration in etcd that never gives up: a background loop (_loop.ts)
 * that registers, waits for the registration to be lost, and registers
 * again, backing off with jitter while etcd is away. The server keeps
 * serving throughout.
 * @module
 */
import type { ResolvedRegistry } from "../config/types.ts";
import type { Logger } from "../core/logger.ts";
import { type ListenAddress, resolveAdvertise } from "./advertise.ts";
import { type BackoffOptions, errorMessage, withDeadline } from "../util/backoff.ts";
import { servicePrefix } from "../etcd/etcd_client.ts";
import { type RegistrarState, RegistrationLoop, type RegistryMetrics } from "./_loop.ts";

export type { RegistrarState, RegistryMetrics };

/** Options for {@link createRegistrar}. */
export interface RegistrarOptions {
  registry: ResolvedRegistry;
  /** Fully-qualified names of the served services; one key each. */
  services: readonly string[];
  /** The bound listen address (port 0 already resolved). */
  address: ListenAddress;
  log: Logger;
  metrics?: RegistryMetrics | null;
  /** Published as `version=` in `Metadata` unless `registry.metadata` sets `version`. */
  version?: string;
  /** Retry timing. Default 250 ms doubling to min(10 s, max(1 s, TTL)). */
  backoff?: BackoffOptions;
  /** Bound of each etcd call. Default TTL/2, within 1–5 s: a slower answer is useless. */
  callTimeoutMs?: number;
  /** Reads `POD_IP`; tests replace it. Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
}

/** Registers one instance; see {@link createRegistrar}. */
export interface Registrar extends AsyncDisposable {
  readonly state: RegistrarState;
  /** The published `host:port`. */
  readonly address: string;
  /** The keys, `<prefix>/<service>/<host:port>`, one per service. */
  readonly keys: readonly string[];
  /** The current lease in hex (as etcdctl prints it), or null when not registered. */
  readonly leaseId: string | null;
  /** Starts registering in the background; returns at once. Safe to call twice. */
  start(): void;
  /**
   * Stops the loop, deletes the keys and revokes the lease. Each etcd call
   * shares `timeoutMs` (default 1.5 s); a frozen etcd cannot hold it longer,
   * and the keys then expire with the lease. Never rejects.
   */
  deregister(timeoutMs?: number): Promise<void>;
  /** Stops the loop without deleting keys (they expire by TTL) and closes the etcd client. Bounded; never rejects. */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Creates the registrar for one instance. Keys are `<prefix>/<service>/<host:port>`
 * with the value grpc-go's etcd naming resolver reads:
 * `{"Op":0,"Addr":"host:port","Metadata":"version=1.0.0&zone=a"}`.
 *
 * `Metadata` is a string (URL query form), not a JSON object: the resolver
 * hands it to grpc-go as `resolver.Address.Metadata`, and grpc-go hashes
 * addresses (base balancer, before ~1.41) or compares them with `==`
 * (clientconn, current releases); a decoded JSON object is a Go map, which
 * panics either way (etcd-io/etcd#19700; tests/go_client_test.ts shows the
 * 1.33 panic). A string is comparable and still readable with `etcdctl`.
 *
 * @example
 * ```ts
 * const registrar = createRegistrar({
 *   registry: config.registry, services: ["helloworld.Greeter"],
 *   address: server.address, log, metrics,
 * });
 * registrar.start();                    // after health is SERVING
 * // shutdown step 2:
 * await registrar.deregister();
 * await registrar.close();
 * ```
 */
export function createRegistrar(options: RegistrarOptions): Registrar {
  return new EtcdRegistrar(options);
}

/**
 * The {@link Registrar} that {@link createRegistrar} returns: it works out
 * the keys and the value, and owns deregistration and the shutdown order;
 * the background loop ({@link RegistrationLoop}) owns the etcd client and
 * the live session.
 *
 * Its methods are bound (arrow fields), as the closures it replaces were:
 * they may be passed around as callbacks.
 */
export class EtcdRegistrar implements Registrar {
  /** The published `host:port`. */
  readonly address: string;
  /** The keys, `<prefix>/<service>/<host:port>`, one per service. */
  readonly keys: readonly string[];
  readonly #log: Logger;
  readonly #ttlSeconds: number;
  readonly #loop: RegistrationLoop;
  /** The deregistration, once asked for; a second call and close() wait for it. */
  #ending: Promise<void> | null = null;

  /** Resolves the advertised address; nothing talks to etcd until {@link start}. */
  constructor(options: RegistrarOptions) {
    const { registry } = options;
    const address = resolveAdvertise({
      advertise: registry.advertise,
      address: options.address,
      env: options.env,
    });
    const keys = options.services.map((s) => servicePrefix(registry.prefix, s) + address);
    const value = JSON.stringify({
      Op: 0,
      Addr: address,
      Metadata: new URLSearchParams(_metadata(options)).toString(),
    });
    const ttlSeconds = Math.max(1, Math.ceil(registry.ttl / 1000));
    const log = options.log.child({ component: "registry" });
    this.address = address;
    this.keys = keys;
    this.#log = log;
    this.#ttlSeconds = ttlSeconds;
    this.#loop = new RegistrationLoop({
      registry,
      entries: keys.map((key) => ({ key, value })),
      keys,
      value,
      ttlSeconds,
      callTimeoutMs: options.callTimeoutMs ??
        Math.min(5_000, Math.max(1_000, registry.ttl / 2)),
      backoff: {
        initialMs: options.backoff?.initialMs ?? 250,
        maxMs: options.backoff?.maxMs ?? Math.min(10_000, Math.max(1_000, registry.ttl)),
      },
      log,
      metrics: options.metrics ?? null,
    });
  }

  /** See {@link RegistrarState}. */
  get state(): RegistrarState {
    return this.#loop.state;
  }

  /** The current lease in hex (as etcdctl prints it), or null when not registered. */
  get leaseId(): string | null {
    return this.#loop.leaseId;
  }

  /** Starts registering in the background; returns at once. Safe to call twice. */
  readonly start = (): void => this.#loop.start();

  /**
   * Stops the loop, deletes the keys and revokes the lease. Each etcd call
   * shares `timeoutMs` (default 1.5 s); a frozen etcd cannot hold it longer,
   * and the keys then expire with the lease. Never rejects.
   */
  readonly deregister = (timeoutMs = 1_500): Promise<void> =>
    this.#ending ??= this.#deregister(timeoutMs);

  /** Stops the loop without deleting keys (they expire by TTL) and closes the etcd client. Bounded; never rejects. */
  readonly close = async (timeoutMs = 1_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    // Shutdown calls deregister() first; let it finish before the client goes.
    if (this.#ending) {
      await withDeadline(this.#ending, deadline - Date.now(), "deregistration").catch(() => {});
    }
    await this.#loop.close(deadline);
  };

  /** {@link close} with its default timeout, for `await using`. */
  readonly [Symbol.asyncDispose] = (): Promise<void> => this.close();

  async #deregister(timeoutMs: number): Promise<void> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    // An attempt in flight gets half the budget; the loop cleans up after it if it is late.
    const current = await this.#loop.halt(started + timeoutMs / 2, true);
    if (!current) return this.#log.info("registry: not registered; nothing to remove");
    try {
      await current.remove(deadline);
      this.#log.info("registry: deregistered", {
        keys: this.keys,
        elapsedMs: Date.now() - started,
      });
    } catch (error) {
      this.#log.warn("registry: deregistration incomplete; the keys expire with the lease", {
        error: errorMessage(error),
        lease: current.leaseId,
        ttlMs: this.#ttlSeconds * 1000,
      });
    }
  }
}

// --- private helpers ---------------------------------------------------------

function _metadata(options: RegistrarOptions): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (options.version) metadata.version = options.version;
  return { ...metadata, ...options.registry.metadata };
}
