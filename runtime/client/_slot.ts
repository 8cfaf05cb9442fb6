/**
 * One instance of a pool as the pool sees it: its lazily made channel, the
 * calls in flight on it, and the state each balancing concern keeps about
 * it (UNAVAILABLE backoff here, latency for p2c, ejection for outlier
 * detection), so an instance that leaves drops all of it at once.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { OutlierState } from "./outlier.ts";
import { PeerLoad } from "./p2c.ts";

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

/** An instance with the pool's bookkeeping; handed out as an {@link Instance}. */
export class Slot implements Instance {
  readonly address: string;
  readonly #makeClient: ClientFactory;
  #client: grpc.Client | null = null;
  /** Calls in flight (unary and streams). */
  active = 0;
  /** UNAVAILABLE attempts in a row; an OK resets it. */
  #unavailableStreak = 0;
  #downUntil = 0;
  /** Gone from the instance set; its channel closes after its last call. */
  removed = false;
  readonly load: PeerLoad;
  readonly outlier: OutlierState = new OutlierState();

  constructor(address: string, makeClient: ClientFactory, now: number) {
    this.address = address;
    this.#makeClient = makeClient;
    this.load = new PeerLoad(now);
  }

  get client(): grpc.Client {
    return this.#client ??= this.#makeClient(this.address);
  }

  /**
   * Worth a call now: not ejected, not marked down, and its channel (if
   * any) is not failing to connect. The cheap checks go first: this runs
   * for every candidate of every pick.
   */
  available(now: number): boolean {
    if (this.#downUntil > now || this.outlier.ejectedUntil > now) return false;
    return this.#client === null ||
      this.#client.getChannel().getConnectivityState(false) !==
        grpc.connectivityState.TRANSIENT_FAILURE;
  }

  /** An OK attempt: the instance answers again, so the next UNAVAILABLE starts the backoff over. */
  succeeded(): void {
    this.#unavailableStreak = 0;
  }

  /** An UNAVAILABLE attempt: skip the instance for 1 s, doubling per failure in a row, up to 10 s. */
  unavailable(now: number): void {
    this.#unavailableStreak++;
    this.#downUntil = now + Math.min(MAX_DOWN_MS, DOWN_MS * 2 ** (this.#unavailableStreak - 1));
  }

  /** Closes the channel if one was made. */
  close(): void {
    this.#client?.close();
  }
}
