/**
 * Loads, soon after the server serves, the modules a request would otherwise
 * make svc load: reflection's descriptor builders, the Connect JSON codec,
 * the Prometheus registry. Each stays off the start path (cold start does
 * not pay for them) but is in memory before it is needed.
 *
 * Why: Deno 2.8.3 cannot load a module while the process is out of file
 * descriptors. From source it panics (stacker reads /proc/self/maps to size
 * the stack, that open fails, an assertion kills the process); from the
 * bundle the import rejects with EMFILE. A starved process (a flood of
 * connections) must neither die nor fail a feature because its first use
 * came then. Each loader checks for free descriptors first
 * (util/descriptor_headroom.ts): short of them, a load does not start (the
 * call fails, the process lives) and is retried here. A load that starts
 * with room can still meet a flood half-way; the warm-up keeps that window
 * to the first moments after start. Only the modules of enabled features
 * load: a feature that is off costs nothing here.
 *
 * Node built-ins (`node:zlib`, `node:crypto` via process.getBuiltinModule)
 * are part of the Deno binary and need no descriptor; they are not listed.
 * @module
 */
import type { ResolvedConfig } from "../config/types.ts";
import type { Logger } from "../core/logger.ts";
import { warmReflection } from "./builtins.ts";
import { warmJsonCodec } from "../protos/describe_services.ts";
import { warmMetricsRegistry } from "../metrics/metrics.ts";

/** Loads one lazy module; resolves once it is in the module map. */
export type ModuleLoader = () => Promise<unknown>;

/**
 * After the first calls of a cold start, before a flood is likely: the loads
 * take tens of ms of CPU that the first call should not wait behind.
 */
export const WARM_DELAY_MS = 200;
/** While descriptors are short, the next try comes this much later. */
export const WARM_RETRY_MS = 1_000;
/** Tries in all; then the modules load at first use (still guarded). */
export const WARM_ATTEMPTS = 60;

/** The lazy modules a request can load under `config`; `metrics` when admin metrics are on. */
export function lazyModulesFor(config: ResolvedConfig, metrics: boolean): ModuleLoader[] {
  const loaders: ModuleLoader[] = [];
  if (config.reflection.enabled) loaders.push(warmReflection);
  if (config.server.web.enabled) loaders.push(warmJsonCodec);
  if (metrics) loaders.push(warmMetricsRegistry);
  return loaders;
}

/** A scheduled warm-up; `stop()` cancels what has not started. */
export interface Warming {
  stop(): void;
  /** Settles once every loader has loaded, or the tries ran out, or it was stopped. */
  readonly done: Promise<void>;
}

/** Timings of {@link warmLazyModules}; the defaults suit production. */
export interface WarmTimings {
  delayMs?: number;
  retryMs?: number;
  attempts?: number;
}

/**
 * Runs `loaders` one after another, `delayMs` from now, on unref'd timers
 * (they never hold the process open). Loaders that fail (out of descriptors:
 * util/descriptor_headroom.ts refuses before Deno would panic) are tried
 * again every `retryMs`, `attempts` times in all; then a warning, nothing
 * thrown: the module loads at first use, as before.
 */
export function warmLazyModules(
  loaders: readonly ModuleLoader[],
  log: Logger,
  timings: WarmTimings = {},
): Warming {
  if (loaders.length === 0) return { stop() {}, done: Promise.resolve() };
  const { delayMs = WARM_DELAY_MS, retryMs = WARM_RETRY_MS, attempts = WARM_ATTEMPTS } = timings;
  let pending = [...loaders];
  let attempt = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish = () => {};
  const done = new Promise<void>((resolve) => finish = resolve);
  const schedule = (ms: number) => {
    const id = setTimeout(run, ms);
    Deno.unrefTimer(id);
    timer = id;
  };
  const run = async () => {
    attempt++;
    const failed: ModuleLoader[] = [];
    let lastError: unknown = null;
    for (const load of pending) {
      if (stopped) return;
      try {
        await load();
      } catch (error) {
        failed.push(load);
        lastError = error;
      }
    }
    pending = failed;
    if (stopped) return;
    if (pending.length === 0) {
      log.debug("lazy modules loaded", { count: loaders.length, attempts: attempt });
    } else if (attempt >= attempts) {
      log.warn("cannot preload modules; they load at first use", {
        modules: pending.length,
        error: String(lastError),
      });
    } else {
      return schedule(retryMs);
    }
    finish();
  };
  schedule(delayMs);
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      finish();
    },
    done,
  };
}
