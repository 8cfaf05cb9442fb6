/**
 * The memory limit's entry point: app/start.ts imports this module only
 * when a limit is in force, and gets a running {@link MemoryGuard} over
 * this process's memory.
 * @module
 */
import type { Logger } from "../core/logger.ts";
import { MemoryGuard } from "./memory_guard.ts";
import { processReclaimer } from "./memory_reclaim.ts";
import { processMemorySampler } from "./memory_sampler.ts";

export { admitFirst, MemoryGuard } from "./memory_guard.ts";

/** Options for {@link startMemoryGuard}. */
export interface MemoryLimitOptions {
  readonly limitBytes: number;
  /** Where the limit came from, for the start-up log. */
  readonly source: "config" | "container";
  readonly log: Logger;
  /** The memory budget, told to refuse large requests while calls are refused. */
  readonly budget?: { refuseLarge: boolean };
}

/** Samples this process's memory against `limitBytes` until stopped. */
export function startMemoryGuard(options: MemoryLimitOptions): MemoryGuard {
  const sampler = processMemorySampler();
  const reclaimer = processReclaimer();
  const guard = new MemoryGuard({
    limitBytes: options.limitBytes,
    sample: () => sampler.sample(),
    reclaim: reclaimer ? () => reclaimer.reclaim() : null,
    log: options.log,
    budget: options.budget,
    onStop: () => {
      sampler.close();
      reclaimer?.close();
    },
  });
  options.log.info("memory limit", {
    limitBytes: options.limitBytes,
    source: options.source,
    measure: sampler.measure,
    usedBytes: guard.used,
    forcedGc: reclaimer !== null,
    mallocTrim: reclaimer?.trims ?? false,
  });
  return guard;
}
