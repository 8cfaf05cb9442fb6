/**
 * Overload protection: the adaptive limiter that sheds calls the process
 * cannot serve in time (`overload` in the config). Loaded only when enabled.
 * @module
 */
export {
  COOL_DOWN_MS,
  OverloadLimiter,
  type OverloadSettings,
  SAMPLE_EVERY,
  type ShedReason,
} from "./limiter.ts";
export { LoopDelayProbe, PROBE_MS } from "./loop_delay.ts";
export { BUCKET_MS, PassWindow, WINDOW_BUCKETS } from "./pass_window.ts";
