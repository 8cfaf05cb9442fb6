/**
 * How late the event loop runs a timer: the delay any callback queued now
 * would see, which is what a request waiting on a busy loop waits.
 *
 * Deno 2.8's `monitorEventLoopDelay` reports a 24 µs maximum across a
 * 150 ms block of the loop, and `performance.eventLoopUtilization()` returns
 * zeros (metrics/process.ts), so this measures with a timer of its own.
 * @module
 */

/** How often the probe looks. A tick costs a few microseconds: 0.05% of a core. */
export const PROBE_MS = 10;

/** A running probe; `stop()` clears its timer. */
export interface LoopDelayProbe {
  stop(): void;
}

/**
 * Calls `onTick(delayMs, now)` about every {@link PROBE_MS} with how late
 * the tick ran. The timer is unref'd: the probe never keeps a process alive.
 */
export function probeLoopDelay(onTick: (delayMs: number, now: number) => void): LoopDelayProbe {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    onTick(Math.max(0, now - last - PROBE_MS), now);
    last = now;
  }, PROBE_MS);
  Deno.unrefTimer(timer);
  return { stop: () => clearInterval(timer) };
}
