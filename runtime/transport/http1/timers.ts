/**
 * The deadlines of one HTTP/1.1 connection, as numbers checked by the
 * transport's tick rather than a timer armed per socket (thousands of
 * clients must not mean thousands of timers being re-armed per read). See
 * connection.ts for what each bound means for a client.
 * @module
 */
import type { Http1Limits } from "./types.ts";

/**
 * Head, idle, body, linger and write-stall deadlines; Infinity when off.
 *
 * @example
 * ```ts
 * const timers = new Http1Timers(limits, () => performance.now());
 * timers.startHead();
 * if (timers.headExpired(performance.now())) console.log("408");
 * ```
 */
export class Http1Timers {
  readonly #limits: Http1Limits;
  readonly #now: () => number;
  #head: number;
  #idle = Infinity;
  #body = Infinity;
  #linger = Infinity;
  #writesPending = 0;
  #writeProgressAt = 0;

  /** Times the first head from now: a client that connects and says nothing is bounded too. */
  constructor(limits: Http1Limits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
    this.#head = now() + limits.headTimeoutMs;
  }

  /** A head's first byte came: time the head from here, unless already timed; no longer idle. */
  startHead(): void {
    if (this.#head === Infinity) this.#head = this.#now() + this.#limits.headTimeoutMs;
    this.#idle = Infinity;
  }

  /** The head is complete. */
  headDone(): void {
    this.#head = Infinity;
  }

  /** A response ended on a kept connection: idle, or timing a pipelined head already begun. */
  awaitNextRequest(headBegun: boolean): void {
    const now = this.#now();
    this.#head = headBegun ? now + this.#limits.headTimeoutMs : Infinity;
    this.#idle = headBegun ? Infinity : now + this.#limits.keepAliveIdleMs;
  }

  /** Body bytes are due: the client has bodyIdleTimeoutMs to send more. */
  armBody(): void {
    this.#body = this.#now() + this.#limits.bodyIdleTimeoutMs;
  }

  /** The body is done, or its stall is ours (a slow handler, 100 Continue not yet sent). */
  stopBody(): void {
    this.#body = Infinity;
  }

  get bodyArmed(): boolean {
    return this.#body !== Infinity;
  }

  /** Close at `ms` from now; Infinity until the last write is flushed. */
  lingerFor(ms: number): void {
    this.#linger = this.#now() + ms;
  }

  writeStarted(): void {
    if (this.#writesPending++ === 0) this.#writeProgressAt = this.#now();
  }

  writeEnded(): void {
    this.#writesPending--;
    this.#writeProgressAt = this.#now();
  }

  /** A write has made no progress for writeStallTimeoutMs: the client stopped reading. */
  writeStalled(now: number): boolean {
    const stall = this.#limits.writeStallTimeoutMs ?? this.#limits.bodyIdleTimeoutMs;
    return this.#writesPending > 0 && now - this.#writeProgressAt > stall;
  }

  headExpired(now: number): boolean {
    return now >= this.#head;
  }

  idleExpired(now: number): boolean {
    return now >= this.#idle;
  }

  bodyExpired(now: number): boolean {
    return now >= this.#body;
  }

  lingerExpired(now: number): boolean {
    return now >= this.#linger;
  }
}
