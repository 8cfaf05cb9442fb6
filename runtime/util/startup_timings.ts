/**
 * Start-up timings for `bench/cold_start.ts`. With `SVC_STARTUP_TIMINGS=1`
 * each step of `svc run` prints `svc-startup STEP EPOCH_MS` to stderr, where
 * EPOCH_MS is `performance.timeOrigin + performance.now()` (wall clock, ms
 * since 1970), so a harness that started the process can subtract its own
 * exec time. Off (the default), a mark is one boolean test.
 *
 * This module imports nothing: main.ts imports it first, so its evaluation is
 * the moment Deno has loaded the whole static module graph and starts running it.
 * @module
 */

/** The environment variable that turns the marks on. */
export const STARTUP_TIMINGS_ENV = "SVC_STARTUP_TIMINGS";

const enabled = (() => {
  try {
    return Deno.env.get(STARTUP_TIMINGS_ENV) === "1";
  } catch {
    // A built binary may not be allowed to read the environment.
    return false;
  }
})();

/**
 * Prints the time `step` was reached, when {@link STARTUP_TIMINGS_ENV} is 1.
 *
 * @example
 * ```ts
 * import { startupMark } from "./startup_timings.ts";
 * startupMark("config");
 * ```
 */
export function startupMark(step: string): void {
  if (!enabled) return;
  console.error(`svc-startup ${step} ${(performance.timeOrigin + performance.now()).toFixed(3)}`);
}

if (enabled) {
  // When Deno's runtime came up, then when the first module of the graph runs.
  console.error(`svc-startup runtime ${performance.timeOrigin.toFixed(3)}`);
  startupMark("graph");
}
