/**
 * A connection's timers, checked by the server's tick rather than armed
 * per connection: the preface timeout, keepalive pings and their timeout,
 * idle and maximum age (grpc-go's keepalive.ServerParameters), and the
 * client that stopped reading.
 * @module
 */
import type { NativeLimits } from "./limits.ts";
import type { OutputWriter } from "./output_writer.ts";

/** What a tick asks of the connection. */
export const enum TickAction {
  None,
  /** Idle too long, or too old: GOAWAY, close once the streams are done. */
  Drain,
  /** Too old, and the grace for its streams is over. */
  Close,
  /** Destroy: no preface (and SETTINGS) in time. */
  NoPreface,
  /** Destroy: a write has not progressed for the keepalive timeout. */
  StoppedReading,
  /** Destroy: our keepalive PING was not answered (nothing was read) in time. */
  PingUnanswered,
}

/** The debug log line of each destroying action. */
export const TICK_FAILURES: Readonly<Record<number, string>> = {
  [TickAction.NoPreface]: "no HTTP/2 preface in time",
  [TickAction.StoppedReading]: "client stopped reading",
  [TickAction.PingUnanswered]: "keepalive ping not answered",
};

/** One connection's timers. */
export class Keepalive {
  /** Set on every read; the tick turns it into a time, so no clock is read per chunk. */
  readSinceTick = false;
  /** When the last open stream closed; Infinity while streams are open. */
  idleSince: number;

  readonly #limits: NativeLimits;
  readonly #writer: OutputWriter;
  readonly #createdAt: number;
  readonly #maxAge: number;
  #lastReadAt: number;
  #pingSentAt = 0;
  #graceDeadline = Infinity;

  constructor(limits: NativeLimits, writer: OutputWriter) {
    this.#limits = limits;
    this.#writer = writer;
    this.#createdAt = this.#lastReadAt = this.idleSince = performance.now();
    // ±10% jitter, as grpc-go does, so connections made together do not all age out at once.
    this.#maxAge = limits.maxConnectionAge > 0
      ? limits.maxConnectionAge * (0.9 + Math.random() * 0.2)
      : 0;
  }

  /**
   * Checks the timers at `now`; sends the keepalive PING itself. The rest
   * is the connection's to do.
   */
  tick(
    now: number,
    settingsReceived: boolean,
    openStreams: number,
    goawaySent: boolean,
  ): TickAction {
    const limits = this.#limits;
    if (!settingsReceived) {
      return now - this.#createdAt > limits.prefaceTimeout ? TickAction.NoPreface : TickAction.None;
    }
    if (this.readSinceTick) {
      this.readSinceTick = false;
      this.#lastReadAt = now;
      this.#pingSentAt = 0;
    }
    if (this.#writer.stuck(now, limits.keepaliveTimeout)) return TickAction.StoppedReading;
    if (this.#pingSentAt > 0 && now - this.#pingSentAt > limits.keepaliveTimeout) {
      return TickAction.PingUnanswered;
    }
    if (this.#pingSentAt === 0 && now - this.#lastReadAt > limits.keepaliveTime) {
      this.#pingSentAt = now;
      this.#writer.ping();
    }
    if (
      limits.maxConnectionIdle > 0 && openStreams === 0 && !goawaySent &&
      now - this.idleSince > limits.maxConnectionIdle
    ) {
      return TickAction.Drain;
    }
    if (this.#maxAge > 0 && now - this.#createdAt > this.#maxAge) {
      if (!goawaySent) {
        this.#graceDeadline = now + limits.maxConnectionAgeGrace;
        return TickAction.Drain;
      } else if (now > this.#graceDeadline) return TickAction.Close;
    }
    return TickAction.None;
  }
}
