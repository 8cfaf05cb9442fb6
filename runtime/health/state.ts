/**
 * Serving status per service, and the watchers that want to hear about
 * every change at once (grpc.health.v1 Watch, readiness probes).
 * @module
 */

/** grpc.health.v1.HealthCheckResponse.ServingStatus names. */
export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

type Listener = (status: ServingStatus) => void;

/**
 * Health of the server (`""`) and of each served service. Starts
 * NOT_SERVING; the server sets SERVING once it listens, and NOT_SERVING
 * first thing at shutdown.
 */
export class HealthState {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #closing = new AbortController();

  /** Registers the overall server and `services`, all NOT_SERVING. */
  constructor(services: Iterable<string>) {
    this.#statuses.set("", "NOT_SERVING");
    for (const service of services) this.#statuses.set(service, "NOT_SERVING");
  }

  /** The status of `service`, or undefined when it is not known. */
  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** Every known service name, `""` (the server) first. */
  services(): IterableIterator<string> {
    return this.#statuses.keys();
  }

  /** Sets every known service (and the server) to `status`, telling watchers. */
  setAll(status: ServingStatus): void {
    for (const service of this.#statuses.keys()) this.set(service, status);
  }

  /** Sets one service; watchers hear only real changes. */
  set(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const listener of this.#listeners.get(service) ?? []) listener(status);
  }

  /**
   * Forgets `service` (a live reload dropped it): Check answers NOT_FOUND
   * for it, and its watchers hear SERVICE_UNKNOWN.
   */
  remove(service: string): void {
    if (service === "" || !this.#statuses.delete(service)) return;
    for (const listener of this.#listeners.get(service) ?? []) listener("SERVICE_UNKNOWN");
  }

  /** Aborts when {@link close} is called: shutdown ends every watch. */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** Ends every open watch. */
  close(): void {
    this.#closing.abort(new DOMException("server is shutting down", "AbortError"));
  }

  /**
   * Yields the current status of `service` (SERVICE_UNKNOWN if unknown),
   * then every change, until `signal` aborts or the state is closed. Only
   * the latest status is kept for a slow reader: health is a level, not a
   * log of events.
   */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    let pending: ServingStatus | null = this.#statuses.get(service) ?? "SERVICE_UNKNOWN";
    let wake: (() => void) | null = null;
    const listener: Listener = (status) => {
      pending = status;
      wake?.();
    };
    const stop = () => wake?.();
    let listeners = this.#listeners.get(service);
    if (!listeners) this.#listeners.set(service, listeners = new Set());
    listeners.add(listener);
    signal.addEventListener("abort", stop);
    this.#closing.signal.addEventListener("abort", stop);
    try {
      while (!signal.aborted && !this.#closing.signal.aborted) {
        if (pending !== null) {
          const status: ServingStatus = pending;
          pending = null;
          yield status;
          continue;
        }
        await new Promise<void>((resolve) => wake = resolve);
        wake = null;
      }
    } finally {
      listeners.delete(listener);
      if (listeners.size === 0) this.#listeners.delete(service);
      signal.removeEventListener("abort", stop);
      this.#closing.signal.removeEventListener("abort", stop);
    }
  }
}
