/**
 * Registration in etcd that never gives up: a background loop that
 * registers, waits for the registration to be lost, and registers again,
 * backing off with jitter while etcd is away. The server keeps serving
 * throughout.
 * @module
 */
import type { Etcd3 } from "etcd3";
import type { ResolvedRegistry } from "../config/types.ts";
import type { Logger } from "../core/logger.ts";
import { type ListenAddress, resolveAdvertise } from "./advertise.ts";
import {
  backoffDelay,
  type BackoffOptions,
  errorMessage,
  sleep,
  withDeadline,
} from "../util/backoff.ts";
import { createEtcdClient, etcdEndpointIssues, servicePrefix } from "../etcd/etcd_client.ts";
import { type Entry, openSession, type Session } from "./_session.ts";

/** Where the registrar is: `registering` (first attempt), `registered`, `retrying`, `stopped`. */
export type RegistrarState = "registering" | "registered" | "retrying" | "stopped";

/** The registry metrics the registrar updates (a subset of the server's `Metrics`). */
export interface RegistryMetrics {
  setRegistryRegistered(registered: boolean): void;
  onRegistryRegistration(): void;
  onRegistryFailure(): void;
}

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
  const { registry, log: parentLog } = options;
  const metrics = options.metrics ?? null;
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
  const entries: Entry[] = keys.map((key) => ({ key, value }));
  const ttlSeconds = Math.max(1, Math.ceil(registry.ttl / 1000));
  const callTimeoutMs = options.callTimeoutMs ?? Math.min(5_000, Math.max(1_000, registry.ttl / 2));
  const backoff: BackoffOptions = {
    initialMs: options.backoff?.initialMs ?? 250,
    maxMs: options.backoff?.maxMs ?? Math.min(10_000, Math.max(1_000, registry.ttl)),
  };
  const log = parentLog.child({ component: "registry" });

  let etcd: Etcd3 | null = null;
  let state: RegistrarState = "registering";
  let session: Session | null = null;
  let loop: Promise<void> | null = null;
  let ending: Promise<void> | null = null;
  const stop = new AbortController();
  const stopped = new Promise<string>((resolve) => {
    stop.signal.addEventListener("abort", () => resolve("stopped"), { once: true });
  });
  let halted = false;
  let removing = false;

  const setState = (next: RegistrarState) => {
    state = next;
    metrics?.setRegistryRegistered(next === "registered");
  };

  async function run(client: Etcd3): Promise<void> {
    let failures = 0;
    while (!stop.signal.aborted) {
      let opened: Session;
      try {
        opened = await openSession(client, entries, ttlSeconds, callTimeoutMs, log);
      } catch (error) {
        if (stop.signal.aborted) return;
        failures++;
        metrics?.onRegistryFailure();
        const retryInMs = backoffDelay(failures, backoff);
        setState("retrying");
        log.warn("registry: registration failed; retrying", {
          error: errorMessage(error),
          attempt: failures,
          retryInMs,
          endpoints: registry.endpoints,
        });
        await sleep(retryInMs, stop.signal);
        continue;
      }
      if (stop.signal.aborted) return adopt(opened);
      const previous = session;
      session = opened;
      const since = Date.now();
      setState("registered");
      metrics?.onRegistryRegistration();
      log.info("registry: registered", { keys, lease: opened.leaseId, ttlMs: ttlSeconds * 1000 });
      // The keys now belong to the new lease, so revoking the old one removes nothing.
      if (previous) previous.revokeQuietly(Date.now() + callTimeoutMs);

      const reason = await Promise.race([opened.lost, stopped]);
      if (stop.signal.aborted) return;
      metrics?.onRegistryFailure();
      setState("retrying");
      log.warn("registry: registration lost; registering again", {
        reason,
        lease: opened.leaseId,
      });
      // Not awaited: cancelling the old watchers must not delay re-registering.
      void opened.release(callTimeoutMs);
      // A registration that dies at once (someone deleting our key in a
      // loop) backs off; one that lived a TTL re-registers immediately.
      failures = Date.now() - since < registry.ttl ? failures + 1 : 0;
      if (failures > 0) await sleep(backoffDelay(failures, backoff), stop.signal);
    }
  }

  /** Stops the loop and waits (bounded) for an attempt in flight to settle. */
  async function halt(deadline: number): Promise<Session | null> {
    stop.abort();
    if (loop) {
      await withDeadline(loop, deadline - Date.now(), "registration attempt").catch(() => {});
    }
    halted = true;
    setState("stopped");
    const current = session;
    session = null;
    return current;
  }

  /** A registration that completed after stop was asked for: hand it over or undo it. */
  function adopt(opened: Session): void {
    if (!halted) {
      session = opened;
      return;
    }
    // halt() gave up waiting for this attempt; nobody else will clean it up.
    const deadline = Date.now() + callTimeoutMs;
    if (removing) opened.remove(deadline).catch(() => opened.release(0));
    else opened.release(callTimeoutMs);
  }

  const registrar: Registrar = {
    get state() {
      return state;
    },
    address,
    keys,
    get leaseId() {
      return state === "registered" ? session?.leaseId ?? null : null;
    },
    start() {
      if (loop || stop.signal.aborted) return;
      log.info("registry: registering", { keys, value, endpoints: registry.endpoints });
      for (const issue of etcdEndpointIssues(registry)) log.warn(`registry: ${issue}`);
      setState("registering");
      loop = (async () => {
        const client = await createEtcdClient(registry, { callTimeoutMs });
        // Stopped while etcd3 was loading: close() has already run.
        if (stop.signal.aborted) return client.close();
        etcd = client;
        await run(client);
      })().catch((error) => {
        // run() catches per attempt; this is a bug guard, never a crash.
        log.error("registry: registration loop stopped", { error: errorMessage(error) });
      });
    },
    deregister(timeoutMs = 1_500) {
      return ending ??= (async () => {
        const started = Date.now();
        const deadline = started + timeoutMs;
        removing = true;
        // An attempt in flight gets half the budget; adopt() cleans up after it if it is late.
        const current = await halt(started + timeoutMs / 2);
        if (!current) return log.info("registry: not registered; nothing to remove");
        try {
          await current.remove(deadline);
          log.info("registry: deregistered", { keys, elapsedMs: Date.now() - started });
        } catch (error) {
          log.warn("registry: deregistration incomplete; the keys expire with the lease", {
            error: errorMessage(error),
            lease: current.leaseId,
            ttlMs: ttlSeconds * 1000,
          });
        }
      })();
    },
    async close(timeoutMs = 1_000) {
      const deadline = Date.now() + timeoutMs;
      // Shutdown calls deregister() first; let it finish before the client goes.
      if (ending) {
        await withDeadline(ending, deadline - Date.now(), "deregistration").catch(() => {});
      }
      const current = await halt(deadline);
      await current?.release(Math.max(0, deadline - Date.now()));
      etcd?.close();
      etcd = null;
    },
    [Symbol.asyncDispose]() {
      return registrar.close();
    },
  };
  return registrar;
}

// --- private helpers ---------------------------------------------------------

function _metadata(options: RegistrarOptions): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (options.version) metadata.version = options.version;
  return { ...metadata, ...options.registry.metadata };
}
