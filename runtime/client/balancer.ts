/**
 * The instances of one service and how calls are spread over them:
 * round-robin (default) or pick-first, skipping instances that recently
 * failed with UNAVAILABLE or whose channel cannot connect. One grpc-js
 * channel per instance, created on first use, reused, and closed when the
 * instance disappears (after its last call ends) or the pool closes.
 * @module
 */
import * as grpc from "@grpc/grpc-js";

/** How calls pick an instance. */
export type Balancing = "round_robin" | "pick_first" | "p2c";

/** One instance and its channel. */
export interface Instance {
  readonly address: string;
  /** The channel; created on first use. */
  readonly client: grpc.Client;
}

/** Creates the grpc-js client for an address. */
export type ClientFactory = (address: string) => grpc.Client;

/** How long an instance is skipped after its first UNAVAILABLE; doubles per failure, up to 10 s. */
const DOWN_MS = 1_000;
const MAX_DOWN_MS = 10_000;

class _Slot implements Instance {
  readonly address: string;
  readonly #makeClient: ClientFactory;
  #client: grpc.Client | null = null;
  active = 0;
  failures = 0;
  downUntil = 0;
  removed = false;

  constructor(address: string, makeClient: ClientFactory) {
    this.address = address;
    this.#makeClient = makeClient;
  }

  get client(): grpc.Client {
    return this.#client ??= this.#makeClient(this.address);
  }

  /** Not marked down, and its channel (if any) is not failing to connect. */
  healthy(now: number): boolean {
    if (this.downUntil > now) return false;
    return this.#client === null ||
      this.#client.getChannel().getConnectivityState(false) !==
        grpc.connectivityState.TRANSIENT_FAILURE;
  }

  /** Closes the channel if one was made. */
  close(): void {
    this.#client?.close();
  }
}

/**
 * The instance pool of one service.
 *
 * @example
 * ```ts
 * const pool = new InstancePool((a) => new grpc.Client(a, grpc.credentials.createInsecure()));
 * pool.update(["127.0.0.1:7001", "127.0.0.1:7002"]);
 * const instance = pool.pick();
 * ```
 */
export class InstancePool {
  readonly #makeClient: ClientFactory;
  readonly #balancing: Balancing;
  #slots: _Slot[] = [];
  #next = 0;
  #closed = false;

  constructor(makeClient: ClientFactory, balancing: Balancing = "round_robin") {
    this.#makeClient = makeClient;
    this.#balancing = balancing;
  }

  /** Current addresses, sorted. */
  get addresses(): string[] {
    return this.#slots.map((s) => s.address);
  }

  /** Replaces the instance set: keeps known instances (and their channels), adds new, retires gone. */
  update(addresses: readonly string[]): void {
    if (this.#closed) return;
    const wanted = new Set(addresses);
    for (const slot of this.#slots) {
      if (!wanted.has(slot.address)) this.#retire(slot);
    }
    const kept = this.#slots.filter((s) => wanted.has(s.address));
    const known = new Set(kept.map((s) => s.address));
    for (const address of wanted) {
      if (!known.has(address)) kept.push(new _Slot(address, this.#makeClient));
    }
    this.#slots = kept.sort((a, b) => a.address < b.address ? -1 : a.address > b.address ? 1 : 0);
  }

  /**
   * The instance for the next call, or undefined when there is none. Prefers
   * healthy instances other than `avoid` (the one a retry just failed on),
   * then any other, then `avoid` itself.
   */
  pick(avoid?: Instance): Instance | undefined {
    const slots = this.#slots;
    const n = slots.length;
    if (n === 0) return undefined;
    const roundRobin = this.#balancing === "round_robin";
    const start = roundRobin ? this.#next % n : 0;
    const now = Date.now();
    let fallback: _Slot | undefined;
    for (let i = 0; i < n; i++) {
      const index = (start + i) % n;
      const slot = slots[index];
      if (slot === avoid) continue;
      if (slot.healthy(now)) {
        // The cursor moves past the instance picked, not by one: an instance
        // that is down must not hand its turn to its neighbour (with three
        // instances and one down, the other two would split calls 1:2).
        if (roundRobin) this.#next = index + 1;
        return slot;
      }
      fallback ??= slot;
    }
    if (roundRobin) this.#next = start + 1;
    return fallback ?? slots[start];
  }

  /** Counts a call in flight on `instance`, so a retired channel is closed only after it. */
  acquire(instance: Instance): void {
    (instance as _Slot).active++;
  }

  /** Ends {@link acquire}; an `unavailable` outcome marks the instance down for a while. */
  release(instance: Instance, outcome: "ok" | "unavailable" | "other"): void {
    const slot = instance as _Slot;
    slot.active--;
    if (outcome === "ok") slot.failures = 0;
    if (outcome === "unavailable") {
      slot.failures++;
      slot.downUntil = Date.now() + Math.min(MAX_DOWN_MS, DOWN_MS * 2 ** (slot.failures - 1));
    }
    if (slot.removed && slot.active === 0) slot.close();
  }

  /** Closes every channel; calls in flight end with CANCELLED or UNAVAILABLE. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) {
      slot.removed = true;
      slot.close();
    }
    this.#slots = [];
  }

  #retire(slot: _Slot): void {
    slot.removed = true;
    if (slot.active === 0) slot.close();
  }
}
