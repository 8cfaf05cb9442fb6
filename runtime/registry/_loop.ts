/**
 * The registrar's background loop: it registers, waits for the registration
 * to be lost, and registers again, backing off with jitter while etcd is
 * away. It owns the etcd client and the live session until it is halted.
 * @module
 */
import type { Etcd3 } from "etcd3";
import type { ResolvedRegistry } from "../config/types.ts";
import type { Logger } from "../core/logger.ts";
import {
  backoffDelay,
  type BackoffOptions,
  errorMessage,
  sleep,
  withDeadline,
} from "../util/backoff.ts";
import { createEtcdClient, etcdEndpointIssues } from "../etcd/etcd_client.ts";
import { type Entry, openSession, type Session } from "./_session.ts";

/** Where the registrar is: `registering` (first attempt), `registered`, `retrying`, `stopped`. */
export type RegistrarState = "registering" | "registered" | "retrying" | "stopped";

/** The registry metrics the registrar updates (a subset of the server's `Metrics`). */
export interface RegistryMetrics {
  setRegistryRegistered(registered: boolean): void;
  onRegistryRegistration(): void;
  onRegistryFailure(): void;
}

/** What the loop registers and how, as the registrar worked it out. */
export interface LoopOptions {
  registry: ResolvedRegistry;
  /** One entry per key, all with the same value. */
  entries: readonly Entry[];
  /** The entries' keys and value, for log lines. */
  keys: readonly string[];
  value: string;
  ttlSeconds: number;
  /** Bound of each etcd call. */
  callTimeoutMs: number;
  backoff: BackoffOptions;
  /** Already the registry component's logger. */
  log: Logger;
  metrics: RegistryMetrics | null;
}

/**
 * Keeps one instance registered until {@link RegistrationLoop.halt}. Every
 * attempt's failure is caught and retried; the loop itself never rejects.
 *
 * Halting is the subtle part: `halt()` waits only so long for an attempt in
 * flight, so a registration can complete after its caller gave up on it.
 * Such a late session is adopted (the loop not yet halted) or undone: its
 * keys deleted when a halt asked to remove them, else released to expire.
 */
export class RegistrationLoop {
  readonly #o: LoopOptions;
  #etcd: Etcd3 | null = null;
  #state: RegistrarState = "registering";
  #session: Session | null = null;
  #running: Promise<void> | null = null;
  readonly #stop = new AbortController();
  /** Resolves with "stopped" when halted; raced against a session's `lost`. */
  readonly #stopped: Promise<string>;
  #halted = false;
  #removing = false;

  /** The loop does nothing until {@link start}. */
  constructor(options: LoopOptions) {
    this.#o = options;
    this.#stopped = new Promise<string>((resolve) => {
      this.#stop.signal.addEventListener("abort", () => resolve("stopped"), { once: true });
    });
  }

  /** See {@link RegistrarState}. */
  get state(): RegistrarState {
    return this.#state;
  }

  /** The current lease in hex, or null when not registered. */
  get leaseId(): string | null {
    return this.#state === "registered" ? this.#session?.leaseId ?? null : null;
  }

  /** Creates the etcd client and starts the loop; returns at once. Does nothing the second time, or once halted. */
  start(): void {
    if (this.#running || this.#stop.signal.aborted) return;
    const { registry, log, keys, value, callTimeoutMs } = this.#o;
    log.info("registry: registering", { keys, value, endpoints: registry.endpoints });
    for (const issue of etcdEndpointIssues(registry)) log.warn(`registry: ${issue}`);
    this.#setState("registering");
    this.#running = (async () => {
      const client = await createEtcdClient(registry, { callTimeoutMs });
      // Stopped while etcd3 was loading: close() has already run.
      if (this.#stop.signal.aborted) return client.close();
      this.#etcd = client;
      await this.#run(client);
    })().catch((error) => {
      // #run() catches per attempt; this is a bug guard, never a crash.
      log.error("registry: registration loop stopped", { error: errorMessage(error) });
    });
  }

  /**
   * Stops the loop and waits (until `deadline`, epoch ms) for an attempt in
   * flight to settle. Returns the session left behind, which is now the
   * caller's to remove or release. `remove` marks this halt as a
   * deregistration, for a session that completes too late to be returned.
   */
  async halt(deadline: number, remove = false): Promise<Session | null> {
    if (remove) this.#removing = true;
    this.#stop.abort();
    if (this.#running) {
      await withDeadline(this.#running, deadline - Date.now(), "registration attempt")
        .catch(() => {});
    }
    this.#halted = true;
    this.#setState("stopped");
    const current = this.#session;
    this.#session = null;
    return current;
  }

  /** Halts, releases the session (keys expire by TTL) and closes the etcd client, by `deadline`. */
  async close(deadline: number): Promise<void> {
    const current = await this.halt(deadline);
    await current?.release(Math.max(0, deadline - Date.now()));
    this.#etcd?.close();
    this.#etcd = null;
  }

  #setState(next: RegistrarState): void {
    this.#state = next;
    this.#o.metrics?.setRegistryRegistered(next === "registered");
  }

  async #run(client: Etcd3): Promise<void> {
    const { registry, entries, keys, ttlSeconds, callTimeoutMs, backoff, log, metrics } = this.#o;
    const stop = this.#stop.signal;
    let failures = 0;
    while (!stop.aborted) {
      let opened: Session;
      try {
        opened = await openSession(client, entries, ttlSeconds, callTimeoutMs, log);
      } catch (error) {
        if (stop.aborted) return;
        failures++;
        metrics?.onRegistryFailure();
        const retryInMs = backoffDelay(failures, backoff);
        this.#setState("retrying");
        log.warn("registry: registration failed; retrying", {
          error: errorMessage(error),
          attempt: failures,
          retryInMs,
          endpoints: registry.endpoints,
        });
        await sleep(retryInMs, stop);
        continue;
      }
      if (stop.aborted) return this.#adopt(opened);
      const previous = this.#session;
      this.#session = opened;
      const since = Date.now();
      this.#setState("registered");
      metrics?.onRegistryRegistration();
      log.info("registry: registered", { keys, lease: opened.leaseId, ttlMs: ttlSeconds * 1000 });
      // The keys now belong to the new lease, so revoking the old one removes nothing.
      if (previous) previous.revokeQuietly(Date.now() + callTimeoutMs);

      const reason = await Promise.race([opened.lost, this.#stopped]);
      if (stop.aborted) return;
      metrics?.onRegistryFailure();
      this.#setState("retrying");
      log.warn("registry: registration lost; registering again", {
        reason,
        lease: opened.leaseId,
      });
      // Not awaited: cancelling the old watchers must not delay re-registering.
      void opened.release(callTimeoutMs);
      // A registration that dies at once (someone deleting our key in a
      // loop) backs off; one that lived a TTL re-registers immediately.
      failures = Date.now() - since < registry.ttl ? failures + 1 : 0;
      if (failures > 0) await sleep(backoffDelay(failures, backoff), stop);
    }
  }

  /** A registration that completed after stop was asked for: hand it over or undo it. */
  #adopt(opened: Session): void {
    if (!this.#halted) {
      this.#session = opened;
      return;
    }
    // halt() gave up waiting for this attempt; nobody else will clean it up.
    const deadline = Date.now() + this.#o.callTimeoutMs;
    if (this.#removing) opened.remove(deadline).catch(() => opened.release(0));
    else opened.release(this.#o.callTimeoutMs);
  }
}
