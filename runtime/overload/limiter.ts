/**
 * The overload limiter: sheds calls the process cannot serve in time,
 * before their requests are decoded, so that what it does serve is served
 * within its deadline. See docs/overload.md for the measurements.
 *
 * A Deno process has one event loop, so the queue a busy server builds is
 * mostly not calls in flight, as it is in Go, where each call is a
 * goroutine: a handler that computes runs as soon as its request is parsed,
 * and the backlog waits as unread bytes, other connections' reads and the
 * rest of the current read, none of which an in-flight count sees. So the
 * limiter measures the loop and applies two rules:
 *
 * - **Queueing delay** (CoDel, Nichols and Jacobson 2012, as Facebook
 *   applies it to RPC queues in "Fail at Scale", 2015): a call waited from
 *   the socket read that completed its request to its admission, or, if
 *   longer, as long as the loop has gone without running a timer (reads of
 *   other connections wait behind such a stretch, and the server cannot
 *   see bytes still in the kernel). While the process is overloaded, a call
 *   that waited longer than `targetDelay` is shed; otherwise one that waited
 *   longer than `interval` is (a burst may queue that long, a standing
 *   queue may not).
 * - **Concurrency** (BBR, as Kratos ships it): while overloaded, a unary
 *   call is shed when the unary calls in flight reach what recent peak
 *   throughput × (minimum latency + `targetDelay`) allows. This catches
 *   handlers that await (a database call) and pile up in flight while the
 *   loop is saturated; pass_window.ts says why the `targetDelay`.
 *
 * The process counts as overloaded while the loop has not run a timer
 * within `targetDelay` of its time for a whole `interval` (the standing
 * queue CoDel looks for), or for a second after the last shed call
 * (Kratos's cool-down, which keeps the limiter from flapping). The probe
 * timer (loop_delay.ts) runs only while calls come: an idle process is
 * not woken, and the first call after a quiet spell restarts it.
 *
 * When not overloaded, one call in {@link SAMPLE_EVERY} reads the clock;
 * the others cost two counter updates.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import type { TransportCall } from "../transport/types.ts";
import type { AdmissionFor, CallAdmission } from "../server/admission.ts";
import { PassWindow } from "./pass_window.ts";
import { LoopDelayProbe, PROBE_MS } from "./loop_delay.ts";

/** Calls between clock reads while not overloaded (and latency samples always). */
export const SAMPLE_EVERY = 8;
/** How long the process stays overloaded after it last shed a call (Kratos: 1 s). */
export const COOL_DOWN_MS = 1000;

/** Why a call was shed: the label of `svc_overload_rejections_total`. */
export type ShedReason = "queue_delay" | "concurrency";

/** What the limiter needs from `overload` in the config (durations in ms). */
export interface OverloadSettings {
  readonly targetDelay: number;
  readonly interval: number;
}

/** Options for tests: a fake clock, and no probe timer (they call `tick`). */
export interface OverloadTestOptions {
  readonly clock?: () => number;
  readonly probe?: boolean;
}

/** The limiter; {@link OverloadLimiter.admissionFor} gives the server its gates. */
export class OverloadLimiter {
  /** Unary calls admitted and not yet settled. */
  inFlight = 0;
  /** Calls shed, by reason. */
  readonly rejections: Record<ShedReason, number> = { queue_delay: 0, concurrency: 0 };
  /** How late the loop ran the last probe tick, in ms. */
  loopDelay = 0;

  readonly #target: number;
  readonly #interval: number;
  readonly #clock: () => number;
  readonly #window: PassWindow;
  readonly #probe: LoopDelayProbe | null;
  readonly #queueError: RpcError;
  readonly #concurrencyError: RpcError;
  #overloaded = false;
  /** When a probe tick last ran within targetDelay of its time. */
  #lastBelowAt: number;
  /** When the last probe tick ran. */
  #lastTickAt: number;
  #lastShedAt = -Infinity;
  #countdown = SAMPLE_EVERY;
  #limit = Infinity;
  /** The probe is running (or, in tests, ticked by hand): no need to wake it. */
  #probing: boolean;
  /** A call was admitted since the last tick: keep probing. */
  #busy = false;

  constructor(settings: OverloadSettings, test: OverloadTestOptions = {}) {
    this.#target = settings.targetDelay;
    this.#interval = settings.interval;
    const clock = this.#clock = test.clock ?? (() => performance.now());
    this.#lastBelowAt = this.#lastTickAt = clock();
    this.#window = new PassWindow(clock());
    const hint = "retry with backoff, or on another instance";
    this.#queueError = new RpcError(
      Status.UNAVAILABLE,
      `The server is overloaded: calls wait longer than ${settings.targetDelay}ms to start; ${hint}`,
    );
    this.#concurrencyError = new RpcError(
      Status.UNAVAILABLE,
      `The server is overloaded: it has as many calls in flight as it can finish in time; ${hint}`,
    );
    this.#probing = test.probe === false;
    this.#probe = test.probe === false
      ? null
      : new LoopDelayProbe((delay, now) => this.tick(delay, now));
  }

  /** Whether calls are being held to targetDelay and the concurrency limit. */
  get overloaded(): boolean {
    return this.#overloaded;
  }

  /** Whether the loop-delay probe is running (it stops while no call comes). */
  get probing(): boolean {
    return this.#probe?.running ?? false;
  }

  /** The concurrency limit for unary calls while overloaded; Infinity until measured. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Every method's gate; `exempt` services (health, reflection) get none.
   * Unary calls are counted in flight; a stream is only admitted or shed at
   * its start, since a long-lived stream says nothing about the load.
   */
  admissionFor(exempt: (service: string) => boolean): AdmissionFor {
    const unary: CallAdmission = {
      admit: (call) => this.#admit(call, true),
      release: (ticket) => this.#release(ticket),
    };
    const stream: CallAdmission = {
      admit: (call) => this.#admit(call, false),
      release: () => {},
    };
    return (method) => exempt(method.service) ? null : method.kind === "unary" ? unary : stream;
  }

  /**
   * One probe reading: how late the loop ran a timer, at `now`. Returns
   * whether to keep probing: not once a tick finds no call admitted since
   * the last, none in flight and no overload (the next call restarts it).
   */
  tick(delayMs: number, now: number): boolean {
    this.loopDelay = delayMs;
    this.#lastTickAt = now;
    if (delayMs < this.#target) this.#lastBelowAt = now;
    this.#overloaded = now - this.#lastBelowAt >= this.#interval ||
      now - this.#lastShedAt < COOL_DOWN_MS;
    if (this.#window.roll(now)) this.#limit = this.#window.inFlightLimit(this.#target);
    const keep = this.#busy || this.inFlight > 0 || this.#overloaded;
    this.#busy = false;
    if (!keep && this.#probe !== null) this.#probing = false;
    return keep;
  }

  /** Stops the probe for good. */
  stop(): void {
    this.#probing = true; // never restarted
    this.#probe?.stop();
  }

  /** A ticket: 0, or the admission time of a latency sample. Throws the shed error. */
  #admit(call: TransportCall, counted: boolean): number {
    this.#busy = true;
    if (!this.#probing) this.#wake();
    const sample = --this.#countdown === 0;
    if (!sample && !this.#overloaded) {
      if (counted) this.inFlight++;
      return 0;
    }
    if (sample) this.#countdown = SAMPLE_EVERY;
    const now = this.#clock();
    const receivedAt = call.receivedAt;
    // Since its socket read, or, if longer, since the loop last ran a timer:
    // work that became ready during that stall (another connection's
    // requests, a timer) has been waiting behind it.
    const waited = Math.max(
      receivedAt ? now - receivedAt : 0,
      now - this.#lastTickAt - PROBE_MS,
    );
    if (this.#overloaded) {
      if (waited > this.#target) this.#shed("queue_delay", now);
      if (counted && this.inFlight >= this.#limit) this.#shed("concurrency", now);
    } else if (waited > this.#interval) {
      // A run of work longer than interval with no probe tick: a standing queue.
      this.#shed("queue_delay", now);
    }
    if (!counted) return 0;
    this.inFlight++;
    return sample ? now : 0;
  }

  /** The first call after a quiet spell: the loop was idle, so it starts with no queue. */
  #wake(): void {
    const now = this.#clock();
    this.#lastTickAt = this.#lastBelowAt = now;
    this.#overloaded = now - this.#lastShedAt < COOL_DOWN_MS;
    this.#probing = true;
    this.#probe!.start(now);
  }

  #release(ticket: number): void {
    this.inFlight--;
    this.#window.pass();
    if (ticket > 0) this.#window.latency(this.#clock() - ticket);
  }

  #shed(reason: ShedReason, now: number): never {
    this.rejections[reason]++;
    this.#lastShedAt = now;
    this.#overloaded = true;
    throw reason === "queue_delay" ? this.#queueError : this.#concurrencyError;
  }
}
