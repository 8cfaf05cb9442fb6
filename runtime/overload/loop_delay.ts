/**
 * How late the event loop runs a timer: the delay any callback queued now
 * would see, which is what a request waiting on a busy loop waits.
 *
 * Deno 2.8's `monitorEventLoopDelay` reports a 24 µs maximum across a
 * 150 ms block of the loop, and `performance.eventLoopUtilization()` returns
 * zeros (metrics/process.ts), so this measures with a timer of its own.
 * @module
 */

/** How often the probe looks while it runs. A tick costs a few microseconds. */
export const PROBE_MS = 10;

/**
 * A timer that calls `onTick(delayMs, now)` about every {@link PROBE_MS}
 * with how late it ran, for as long as `onTick` returns true; `start()`
 * runs it again. It only runs while someone needs it, so an idle process
 * is not woken 100 times a second, and it never keeps a process alive.
 */
export class LoopDelayProbe {
  readonly #onTick: (delayMs: number, now: number) => boolean;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #due = 0;

  constructor(onTick: (delayMs: number, now: number) => boolean) {
    this.#onTick = onTick;
  }

  /** Whether a tick is scheduled. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Schedules the next tick PROBE_MS after `now`, unless one is scheduled. */
  start(now: number): void {
    if (this.#timer === undefined) this.#schedule(now);
  }

  /** Cancels the next tick. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(now: number): void {
    this.#due = now + PROBE_MS;
    this.#timer = setTimeout(this.#tick, PROBE_MS);
    Deno.unrefTimer(this.#timer);
  }

  readonly #tick = () => {
    this.#timer = undefined;
    const now = performance.now();
    if (this.#onTick(Math.max(0, now - this.#due), now)) this.#schedule(now);
  };
}
