/**
 * The instances of one service and how calls are spread over them:
 * round-robin (default), pick-first, or p2c (power of two choices by
 * latency and calls in flight, see p2c.ts), skipping instances that
 * recently failed with UNAVAILABLE, whose channel cannot connect, or that
 * outlier detection ejected (see outlier.ts). One grpc-js channel per
 * instance, created on first use, reused, and closed when the instance
 * disappears (after its last call ends) or the pool closes.
 * @module
 */
import { Status } from "../core/errors.ts";
import { type ClientFactory, type Instance, Slot } from "./_slot.ts";
import { type EjectionListener, OutlierDetector, type OutlierOptions } from "./outlier.ts";
import { pickP2c } from "./p2c.ts";

export type { ClientFactory, Instance } from "./_slot.ts";
export type { EjectionListener, OutlierOptions } from "./outlier.ts";

/** How calls pick an instance. */
export type Balancing = "round_robin" | "pick_first" | "p2c";

/** How an {@link InstancePool} balances and ejects; every field is optional. */
export interface PoolOptions {
  /** Default `round_robin`. */
  balancing?: Balancing;
  /** Outlier ejection settings; null or absent = no ejection. */
  outlier?: OutlierOptions | null;
  /** The clock, epoch ms; default `Date.now` (tests pass a fake one). */
  now?: () => number;
  /** Random numbers in [0, 1) for p2c; default `Math.random` (tests pass a seeded one). */
  random?: () => number;
  /** Told when an instance is ejected (for how long, in ms) or returns (`null`), for logs. */
  onEjection?: EjectionListener;
}

/**
 * The instance pool of one service.
 *
 * @example
 * ```ts
 * const pool = new InstancePool(
 *   (a) => new grpc.Client(a, grpc.credentials.createInsecure()),
 *   { balancing: "p2c" },
 * );
 * pool.update(["127.0.0.1:7001", "127.0.0.1:7002"]);
 * const instance = pool.pick()!;
 * pool.acquire(instance);
 * // ... the call ...
 * pool.release(instance, Status.OK, 3.2);
 * ```
 */
export class InstancePool {
  readonly #makeClient: ClientFactory;
  readonly #balancing: Balancing;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #outlier: OutlierDetector | null;
  #slots: Slot[] = [];
  #next = 0;
  #closed = false;

  constructor(makeClient: ClientFactory, options: PoolOptions = {}) {
    this.#makeClient = makeClient;
    this.#balancing = options.balancing ?? "round_robin";
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#outlier = options.outlier
      ? new OutlierDetector(options.outlier, this.#now(), options.onEjection)
      : null;
  }

  /** Current addresses, sorted. */
  get addresses(): string[] {
    return this.#slots.map((s) => s.address);
  }

  /** Instances now. */
  get size(): number {
    return this.#slots.length;
  }

  /** Instances ejected now by outlier detection. */
  get ejectedCount(): number {
    return this.#outlier?.ejectedCount(this.#slots, this.#now()) ?? 0;
  }

  /** Ejections so far (a counter: returns do not lower it). */
  get ejections(): number {
    return this.#outlier?.ejections ?? 0;
  }

  /**
   * Replaces the instance set: keeps known instances (their channels and
   * their latency and ejection state), adds new, retires gone ones, whose
   * state goes with them.
   */
  update(addresses: readonly string[]): void {
    if (this.#closed) return;
    const wanted = new Set(addresses);
    for (const slot of this.#slots) {
      if (!wanted.has(slot.address)) this.#retire(slot);
    }
    const kept = this.#slots.filter((s) => wanted.has(s.address));
    const known = new Set(kept.map((s) => s.address));
    const now = this.#now();
    for (const address of wanted) {
      if (!known.has(address)) kept.push(new Slot(address, this.#makeClient, now));
    }
    this.#slots = kept.sort((a, b) => a.address < b.address ? -1 : a.address > b.address ? 1 : 0);
  }

  /**
   * The instance for the next call, or undefined when there is none. Prefers
   * available instances (not down, not ejected, channel not failing) other
   * than `avoid` (the one a retry just failed on), then any other, then
   * `avoid` itself.
   */
  pick(avoid?: Instance): Instance | undefined {
    const slots = this.#slots;
    const n = slots.length;
    if (n === 0) return undefined;
    const now = this.#now();
    this.#runOutlierDetection(now);
    if (this.#balancing === "p2c") {
      return pickP2c(slots, avoid, now, this.#random) ??
        this.#fallback(avoid, Math.floor(this.#random() * n));
    }
    const roundRobin = this.#balancing === "round_robin";
    const start = roundRobin ? this.#next % n : 0;
    for (let i = 0; i < n; i++) {
      const index = (start + i) % n;
      const slot = slots[index];
      if (slot === avoid || !slot.available(now)) continue;
      // The cursor moves past the instance picked, not by one: an instance
      // that is down must not hand its turn to its neighbour (with three
      // instances and one down, the other two would split calls 1:2).
      if (roundRobin) this.#next = index + 1;
      return slot;
    }
    if (roundRobin) this.#next = start + 1;
    return this.#fallback(avoid, start);
  }

  /** Counts a call in flight on `instance`, so a retired channel is closed only after it. */
  acquire(instance: Instance): void {
    (instance as Slot).active++;
  }

  /**
   * Ends {@link acquire}. `code` is the attempt's gRPC status as the caller
   * saw it (0 = OK): UNAVAILABLE marks the instance down for a while
   * (doubling per failure in a row), OK ends that streak, and outlier
   * detection counts every code. `latencyMs` is the attempt's duration for
   * unary calls, null for streams (whose length says nothing about the
   * instance); it feeds p2c.
   */
  release(instance: Instance, code: number, latencyMs: number | null): void {
    const slot = instance as Slot;
    slot.active--;
    const now = this.#now();
    if (code === Status.OK) slot.succeeded();
    else if (code === Status.UNAVAILABLE) slot.unavailable(now);
    if (latencyMs !== null && this.#balancing === "p2c") slot.load.record(latencyMs, now);
    if (this.#outlier && !slot.removed) {
      this.#outlier.record(slot.outlier, code);
      this.#runOutlierDetection(now);
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

  /** Nothing is available: the first instance other than `avoid` from `start` on, else `avoid`. */
  #fallback(avoid: Instance | undefined, start: number): Slot {
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[(start + i) % slots.length];
      if (slot !== avoid) return slot;
    }
    return slots[start % slots.length];
  }

  /** Outlier detection has no timer: it catches up here, on calls, when its next event is due. */
  #runOutlierDetection(now: number): void {
    const outlier = this.#outlier;
    if (outlier !== null && now >= outlier.nextEventAt) outlier.update(this.#slots, now);
  }

  #retire(slot: Slot): void {
    slot.removed = true;
    if (slot.active === 0) slot.close();
  }
}
