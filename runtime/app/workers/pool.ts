/**
 * The worker threads of `server.workers`: starts them on one port, restarts
 * one that crashes (counted), forwards health, gathers metrics and shuts
 * them down, every wait bounded. Each worker is a Web Worker running
 * worker_main.ts: its own V8 isolate and event loop on its own OS thread,
 * with its own listener on the shared port (SO_REUSEPORT), so the kernel
 * spreads connections across them and no call crosses a thread.
 * @module
 */
import type { Logger } from "../../core/logger.ts";
import type { ServingStatus } from "../../health/state.ts";
import type { BoundAddress } from "../../transport/types.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { resetSlot } from "../../rate_limit/shared_limits.ts";

/** How long a worker may take to load the app and listen. */
export const WORKER_START_TIMEOUT_MS = 30_000;
/** How long a worker may take to answer a metrics request; a slower one is left out of the scrape. */
export const METRICS_TIMEOUT_MS = 2_000;
/** First delay before restarting a crashed worker; doubles per crash in a row, up to {@link RESTART_MAX_MS}. */
export const RESTART_FIRST_MS = 100;
/** The longest delay between restarts of a worker that keeps crashing. */
export const RESTART_MAX_MS = 5_000;
/** A worker that served this long counts as healthy again: its next crash restarts it at once. */
const STABLE_AFTER_MS = 10_000;

/** What {@link WorkerPool} needs. */
export interface PoolOptions {
  readonly count: number;
  readonly configPath: string;
  /** The build manifest module, or null (handlers from disk). */
  readonly manifest: string | null;
  /** `server.port`; 0 lets the first worker pick one, which the others then share. */
  readonly port: number;
  readonly log: Logger;
  /** The process-wide rate and concurrency limits, which outlive a worker's restart. */
  readonly limits: Record<string, SharedArrayBuffer>;
}

interface Slot {
  readonly index: number;
  worker: Worker | null;
  serving: boolean;
  startedAt: number;
  crashesInARow: number;
  restartTimer?: ReturnType<typeof setTimeout>;
  /** Settles when this incarnation serves or fails to start. */
  started?: { resolve: () => void; reject: (error: Error) => void };
  /** True until the pool's start() is over: a failure then fails the start, later ones restart. */
  initial: boolean;
  closed?: () => void;
}

/** N workers serving one port. */
export class WorkerPool {
  readonly #options: PoolOptions;
  readonly #slots: Slot[];
  readonly #metricWaits = new Map<number, (json: unknown[]) => void>();
  #port: number;
  #host = "";
  #health: ServingStatus = "NOT_SERVING";
  #stopping = false;
  #restarts = 0;
  #nextId = 0;

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#port = options.port;
    this.#slots = Array.from({ length: options.count }, (_, index) => ({
      index,
      worker: null,
      serving: false,
      startedAt: 0,
      crashesInARow: 0,
      initial: true,
    }));
  }

  /** Workers serving now. */
  get serving(): number {
    return this.#slots.filter((slot) => slot.serving).length;
  }

  /** Workers restarted after a crash since start. */
  get restarts(): number {
    return this.#restarts;
  }

  get size(): number {
    return this.#slots.length;
  }

  /**
   * Starts every worker and resolves with the shared address once all
   * serve. The first starts alone when the port is 0, so the rest can
   * bind the port it picked. Rejects (terminating them all) if one fails.
   */
  async start(): Promise<BoundAddress> {
    try {
      await this.#spawn(this.#slots[0]);
      await Promise.all(this.#slots.slice(1).map((slot) => this.#spawn(slot)));
    } catch (error) {
      this.terminate();
      throw error;
    }
    for (const slot of this.#slots) slot.initial = false;
    return { host: this.#host, port: this.#port };
  }

  /** Sets every worker's health (and that of workers started later). */
  setHealth(status: ServingStatus): void {
    this.#health = status;
    this.#broadcast({ kind: "health", status });
  }

  /** Each serving worker's metrics as prom-client JSON; a worker that does not answer in time is left out. */
  metrics(): Promise<unknown[][]> {
    return Promise.all(
      this.#slots.filter((slot) => slot.serving && slot.worker).map((slot) => {
        const id = this.#nextId++;
        return new Promise<unknown[]>((resolve) => {
          const timer = setTimeout(() => {
            this.#metricWaits.delete(id);
            this.#options.log.warn("a worker did not answer the metrics request in time", {
              worker: slot.index,
              timeoutMs: METRICS_TIMEOUT_MS,
            });
            resolve([]);
          }, METRICS_TIMEOUT_MS);
          this.#metricWaits.set(id, (json) => {
            clearTimeout(timer);
            resolve(json);
          });
          slot.worker!.postMessage({ kind: "metrics", id } satisfies ToWorker);
        });
      }),
    );
  }

  /**
   * Tells every worker to run its shutdown (stop accepting, drain within
   * the grace period, close); resolves when all have closed or after
   * `boundMs`, then terminates them. No restarts from now on.
   */
  async shutdown(boundMs: number): Promise<boolean> {
    this.#stopping = true;
    const closing = this.#slots.filter((slot) => slot.worker).map((slot) =>
      new Promise<void>((resolve) => {
        slot.closed = resolve;
        slot.worker!.postMessage({ kind: "shutdown" } satisfies ToWorker);
      })
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const allClosed = await Promise.race([
      Promise.all(closing).then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), boundMs)),
    ]);
    clearTimeout(timer);
    this.terminate();
    return allClosed;
  }

  /** Ends every worker now. */
  terminate(): void {
    this.#stopping = true;
    for (const slot of this.#slots) {
      clearTimeout(slot.restartTimer);
      slot.worker?.terminate();
      slot.worker = null;
      slot.serving = false;
    }
  }

  #spawn(slot: Slot): Promise<void> {
    const worker = new Worker(new URL("./worker_main.ts", import.meta.url).href, {
      type: "module",
      name: `svc-worker-${slot.index}`,
    });
    slot.worker = worker;
    slot.serving = false;
    const started = new Promise<void>((resolve, reject) => slot.started = { resolve, reject });
    const timer = setTimeout(
      () => this.#crashed(slot, worker, `did not serve within ${WORKER_START_TIMEOUT_MS} ms`),
      WORKER_START_TIMEOUT_MS,
    );
    started.then(() => clearTimeout(timer), () => clearTimeout(timer));
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.#onMessage(slot, event.data);
    // An uncaught error ends the worker; unhandled here it would end the process.
    worker.onerror = (event) => {
      event.preventDefault();
      this.#crashed(slot, worker, event.message);
    };
    worker.onmessageerror = () => this.#crashed(slot, worker, "unreadable message");
    worker.postMessage(
      {
        kind: "start",
        index: slot.index,
        configPath: this.#options.configPath,
        manifest: this.#options.manifest,
        port: this.#port,
        memoryShare: 1 / this.#slots.length,
        limits: this.#options.limits,
      } satisfies ToWorker,
    );
    return started;
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    switch (message.kind) {
      case "serving":
        slot.serving = true;
        slot.startedAt = performance.now();
        this.#port = message.port;
        this.#host = message.host;
        if (this.#health !== "NOT_SERVING") {
          slot.worker?.postMessage({ kind: "health", status: this.#health } satisfies ToWorker);
        }
        slot.started?.resolve();
        slot.started = undefined;
        return;
      case "failed":
        if (slot.worker) this.#crashed(slot, slot.worker, `failed to start: ${message.message}`);
        return;
      case "metrics":
        this.#metricWaits.get(message.id)?.(message.json);
        this.#metricWaits.delete(message.id);
        return;
      case "closed":
        slot.serving = false;
        slot.closed?.();
        return;
    }
  }

  #crashed(slot: Slot, worker: Worker, reason: string): void {
    if (slot.worker !== worker) return;
    worker.terminate();
    slot.worker = null;
    slot.serving = false;
    slot.closed?.();
    const started = slot.started;
    slot.started = undefined;
    if (slot.initial) {
      // The supervisor loaded the same app first, so this is rare; start() reports it.
      started?.reject(new Error(`worker ${slot.index}: ${reason}`));
      return;
    }
    started?.resolve();
    if (this.#stopping) return;
    // Its calls in flight died with it: they no longer count against maxConcurrent.
    resetSlot(this.#options.limits, slot.index);
    const stable = performance.now() - slot.startedAt > STABLE_AFTER_MS;
    slot.crashesInARow = stable ? 0 : slot.crashesInARow + 1;
    const delay = slot.crashesInARow === 0
      ? 0
      : Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** (slot.crashesInARow - 1));
    this.#restarts++;
    this.#options.log.error("worker crashed; restarting it", {
      worker: slot.index,
      error: reason,
      restartInMs: delay,
      restarts: this.#restarts,
    });
    slot.restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      // A restart that fails to start is a crash like any other.
      this.#spawn(slot).catch(() => {});
    }, delay);
  }

  #broadcast(message: ToWorker): void {
    for (const slot of this.#slots) slot.worker?.postMessage(message);
  }
}
