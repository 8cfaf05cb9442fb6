/**
 * Process metrics under prom-client's and client_golang's usual names, so
 * Node.js and process dashboards work, measured in ways that are right on
 * Deno.
 *
 * prom-client's `collectDefaultMetrics()` is not used, because on Deno 2.8
 * several of its metrics are wrong or empty:
 * - `nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds`:
 *   Deno's `monitorEventLoopDelay` reports a 24 µs maximum across a 150 ms
 *   block of the loop.
 * - `nodejs_eventloop_lag_seconds`: it sets the value after the scrape
 *   (via `setImmediate`), so each scrape shows the previous one's lag.
 * - `nodejs_active_{handles,requests,resources}[_total]`: always 0 or empty
 *   on Deno, and the `_total` gauges fail `promtool check metrics` lint.
 * - `nodejs_gc_duration_seconds`: Deno emits no `gc` performance entries,
 *   so the histogram stays empty.
 * - `nodejs_version_info`: reports Deno's Node-compat version (v24), not
 *   the runtime; replaced by `deno_version_info`.
 * - `process_start_time_seconds`: `process.uptime()` counts from runtime
 *   start, after type-checking; here it comes from /proc like client_golang.
 * @module
 */
import process from "node:process";
import { setImmediate } from "node:timers";
import v8 from "node:v8";
import type { Registry } from "prom-client";
import { SnapshotGauge, unlabelledCounters, unlabelledGauges } from "./snapshot.ts";
import { processStartTime, type ProcReadings, sampleProc } from "./_proc.ts";

/**
 * Readings taken once per scrape, so related metrics agree with each other.
 * The /proc ones (Linux only) stay NaN elsewhere.
 */
interface _Sample extends ProcReadings {
  cpuUser: number;
  cpuSystem: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  eventLoopLag: number;
  heapSpaces: v8.HeapSpaceInfo[];
}

/** Registers the process metrics on `registry`; `sample()` must run before each render. */
export function createProcessMetrics(registry: Registry): { sample(): Promise<void> } {
  return new ProcessMetrics(registry);
}

/**
 * The process metrics: registered at construction, and read at render from
 * the readings {@link ProcessMetrics.sample} last took, so they change only
 * when it runs (once per scrape).
 *
 * `sample` is bound (an arrow field), as the closure it replaces was: it
 * may be passed around as a callback.
 */
export class ProcessMetrics {
  readonly #linux = Deno.build.os === "linux";
  readonly #s: _Sample = {
    cpuUser: 0,
    cpuSystem: 0,
    rss: 0,
    heapTotal: 0,
    heapUsed: 0,
    external: 0,
    virtual: NaN,
    data: NaN,
    openFds: NaN,
    maxFds: NaN,
    eventLoopLag: 0,
    heapSpaces: [],
  };

  /** Registers every metric on `registry`, in the order they are rendered. */
  constructor(registry: Registry) {
    this.#registerProcess(registry);
    this.#registerNodejs(registry);
    const { deno: version, v8: v8Version, typescript } = Deno.version;
    const versionLabels = Object.freeze({ version, v8: v8Version, typescript });
    new SnapshotGauge({
      name: "deno_version_info",
      help: "Deno version info.",
      labelNames: Object.keys(versionLabels),
      registry,
    }, () => [{ labels: versionLabels, value: 1 }]);
  }

  /** Takes this scrape's readings; run it before each render. */
  readonly sample = async (): Promise<void> => {
    const s = this.#s;
    // Measured first, before this scrape's own work queues up behind it.
    s.eventLoopLag = await _eventLoopLag();
    const cpu = process.cpuUsage();
    s.cpuUser = cpu.user / 1e6;
    s.cpuSystem = cpu.system / 1e6;
    const memory = Deno.memoryUsage();
    s.rss = memory.rss;
    s.heapTotal = memory.heapTotal;
    s.heapUsed = memory.heapUsed;
    s.external = memory.external;
    s.heapSpaces = v8.getHeapSpaceStatistics();
    if (this.#linux) await sampleProc(s);
  };

  // Names and help texts are prom-client's, so its dashboards keep working.

  #registerProcess(registry: Registry): void {
    const s = this.#s;
    const startTime = processStartTime();
    const counter = unlabelledCounters(registry);
    const gauge = unlabelledGauges(registry);
    counter(
      "process_cpu_user_seconds_total",
      "Total user CPU time spent in seconds.",
      () => s.cpuUser,
    );
    counter(
      "process_cpu_system_seconds_total",
      "Total system CPU time spent in seconds.",
      () => s.cpuSystem,
    );
    counter(
      "process_cpu_seconds_total",
      "Total user and system CPU time spent in seconds.",
      () => s.cpuUser + s.cpuSystem,
    );
    gauge(
      "process_start_time_seconds",
      "Start time of the process since unix epoch in seconds.",
      () => startTime,
    );
    gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () => s.rss);
    if (this.#linux) {
      gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", () => s.virtual);
      gauge("process_heap_bytes", "Process heap size in bytes.", () => s.data);
      gauge("process_open_fds", "Number of open file descriptors.", () => s.openFds);
      gauge("process_max_fds", "Maximum number of open file descriptors.", () => s.maxFds);
    }
  }

  #registerNodejs(registry: Registry): void {
    const s = this.#s;
    const gauge = unlabelledGauges(registry);
    gauge("nodejs_eventloop_lag_seconds", "Lag of event loop in seconds.", () => s.eventLoopLag);
    gauge(
      "nodejs_heap_size_total_bytes",
      "Process heap size from Node.js in bytes.",
      () => s.heapTotal,
    );
    gauge(
      "nodejs_heap_size_used_bytes",
      "Process heap size used from Node.js in bytes.",
      () => s.heapUsed,
    );
    gauge(
      "nodejs_external_memory_bytes",
      "Node.js external memory size in bytes.",
      () => s.external,
    );
    const spaceLabels = new Map<string, { space: string }>();
    for (const part of ["total", "used", "available"] as const) {
      const field = part === "total"
        ? "space_size"
        : part === "used"
        ? "space_used_size"
        : "space_available_size";
      new SnapshotGauge({
        name: `nodejs_heap_space_size_${part}_bytes`,
        help: `Process heap space size ${part} from Node.js in bytes.`,
        labelNames: ["space"],
        registry,
      }, () =>
        s.heapSpaces.map((info) => {
          const space = info.space_name.replace(/_space$/, "");
          let labels = spaceLabels.get(space);
          if (!labels) spaceLabels.set(space, labels = Object.freeze({ space }));
          return { labels, value: info[field] };
        }));
    }
  }
}

/** How long a callback queued now waits for the event loop. */
function _eventLoopLag(): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => setImmediate(() => resolve((performance.now() - start) / 1e3)));
}
