/**
 * The memory-limit guard's series (`server.memoryLimitBytes`,
 * overload/memory_guard.ts), read from its plain numbers at scrape time.
 * @module
 */
import type { Registry } from "prom-client";
import { unlabelledCounters, unlabelledGauges } from "./snapshot.ts";

/** What the memory-limit guard shows (overload/memory_guard.ts's MemoryGuard fits). */
export interface MemoryLimitReadings {
  /** Bytes. */
  readonly limit: number;
  /** Bytes at the last sample. */
  readonly used: number;
  /** The most any sample read, in bytes. */
  readonly peak: number;
  readonly shedding: boolean;
  readonly forcedGcs: number;
  /** Milliseconds spent in forced GCs, in total. */
  readonly reclaimMs: number;
  readonly rejections: number;
}

/** Registers `svc_memory_limit_*`, `svc_memory_used_*` and `svc_memory_forced_gc_*`. */
export function registerMemoryLimit(registry: Registry, guard: MemoryLimitReadings): void {
  const gauge = unlabelledGauges(registry);
  gauge(
    "svc_memory_limit_bytes",
    "The process's memory limit (server.memoryLimitBytes, or the container's).",
    () => guard.limit,
  );
  gauge(
    "svc_memory_used_bytes",
    "The process's anonymous resident memory at the memory guard's last sample (every 50 ms).",
    () => guard.used,
  );
  gauge(
    "svc_memory_used_peak_bytes",
    "The most svc_memory_used_bytes has been.",
    () => guard.peak,
  );
  gauge(
    "svc_memory_limit_shedding",
    "1 while the memory guard paces new calls (refusing all above 80 % of the limit, else admitting what fits under it), else 0.",
    () => guard.shedding ? 1 : 0,
  );
  const counter = unlabelledCounters(registry);
  counter(
    "svc_memory_forced_gc_total",
    "Full garbage collections (and malloc trims) the memory guard forced above 65 % of the limit.",
    () => guard.forcedGcs,
  );
  counter(
    "svc_memory_forced_gc_seconds_total",
    "Time spent in forced garbage collections.",
    () => guard.reclaimMs / 1e3,
  );
  counter(
    "svc_memory_limit_rejections_total",
    "Calls refused with ResourceExhausted because the process was near its memory limit.",
    () => guard.rejections,
  );
}
