/**
 * `server.yieldHelperThreads`: V8's helper threads at a low priority while
 * the event loop has time to spare (overload/helper_priority.ts). One watch
 * per process, wherever the process serves from: startApp with one event
 * loop, the supervisor with workers (it sees every worker's thread).
 * @module
 */
import type { Logger } from "../core/logger.ts";

/**
 * Loads the watch when enabled (a disabled built-in loads no module) and
 * returns the function that starts it once serving; the start never delays
 * a call and never fails start-up.
 */
export async function helperThreadsWatch(
  enabled: boolean,
  log: Logger,
): Promise<() => { stop(): void }> {
  if (!enabled) return () => ({ stop() {} });
  const { startHelperPriority } = await import("../overload/helper_priority.ts");
  return () => {
    let stopped = false;
    let watch: { stop(): void } | null = null;
    startHelperPriority({ log }).then((started) => {
      if ("skipped" in started) {
        log.debug("V8 helper threads keep their priority", { reason: started.skipped });
      } else if (stopped) {
        started.stop();
      } else {
        watch = started;
      }
    });
    return {
      stop() {
        stopped = true;
        watch?.stop();
      },
    };
  };
}
