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
import { type SeriesValue, SnapshotCounter, SnapshotGauge } from "./snapshot.ts";

const _NONE = Object.freeze({});

/** Readings taken once per scrape, so related metrics agree with each other. */
interface _Sample {
  cpuUser: number;
  cpuSystem: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  /** From /proc/self/status (Linux only), else NaN. */
  virtual: number;
  data: number;
  openFds: number;
  maxFds: number;
  eventLoopLag: number;
  heapSpaces: v8.HeapSpaceInfo[];
}

/** Registers the process metrics on `registry`; `sample()` must run before each render. */
export function createProcessMetrics(registry: Registry): { sample(): Promise<void> } {
  const linux = Deno.build.os === "linux";
  const startTime = _startTime();
  const s: _Sample = {
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
  const one = (value: number): SeriesValue[] =>
    Number.isFinite(value) ? [{ labels: _NONE, value }] : [];
  const counter = (name: string, help: string, read: () => number) =>
    new SnapshotCounter({ name, help, labelNames: [], registry }, () => one(read()));
  const gauge = (name: string, help: string, read: () => number) =>
    new SnapshotGauge({ name, help, labelNames: [], registry }, () => one(read()));

  // Names and help texts are prom-client's, so its dashboards keep working.
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
  if (linux) {
    gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", () => s.virtual);
    gauge("process_heap_bytes", "Process heap size in bytes.", () => s.data);
    gauge("process_open_fds", "Number of open file descriptors.", () => s.openFds);
    gauge("process_max_fds", "Maximum number of open file descriptors.", () => s.maxFds);
  }
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
  gauge("nodejs_external_memory_bytes", "Node.js external memory size in bytes.", () => s.external);
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
  const { deno: version, v8: v8Version, typescript } = Deno.version;
  const versionLabels = Object.freeze({ version, v8: v8Version, typescript });
  new SnapshotGauge({
    name: "deno_version_info",
    help: "Deno version info.",
    labelNames: Object.keys(versionLabels),
    registry,
  }, () => [{ labels: versionLabels, value: 1 }]);

  return {
    async sample() {
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
      if (linux) await _sampleProc(s);
    },
  };
}

/** How long a callback queued now waits for the event loop. */
function _eventLoopLag(): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => setImmediate(() => resolve((performance.now() - start) / 1e3)));
}

/** /proc values; a failed read (e.g. no --allow-read) leaves NaN, so the series is omitted. */
async function _sampleProc(s: _Sample): Promise<void> {
  const [status, limits, fds] = await Promise.all([
    _read("/proc/self/status"),
    _read("/proc/self/limits"),
    _countFds(),
  ]);
  s.virtual = _kib(status, "VmSize");
  s.data = _kib(status, "VmData");
  // `Max open files   <soft>   <hard>   files`; "unlimited" parses as NaN.
  s.maxFds = Number(/^Max open files\s+(\S+)/m.exec(limits)?.[1] ?? NaN);
  s.openFds = fds;
}

function _kib(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

async function _read(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return "";
  }
}

async function _countFds(): Promise<number> {
  try {
    let count = 0;
    for await (const _ of Deno.readDir("/proc/self/fd")) count++;
    // The directory handle being read is itself one of the entries.
    return count - 1;
  } catch {
    return NaN;
  }
}

/**
 * Process start as client_golang computes it: boot time plus the start
 * tick from /proc/self/stat (USER_HZ is 100 on Linux). Elsewhere, Deno's
 * time origin.
 */
function _startTime(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    // Field 22 (starttime); the command name in field 2 may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const btime = /^btime (\d+)$/m.exec(Deno.readTextFileSync("/proc/stat"))?.[1];
    const value = Number(btime) + Number(fields[19]) / 100;
    if (Number.isFinite(value)) return value;
  } catch {
    // Not Linux, or no read permission: fall through.
  }
  return performance.timeOrigin / 1e3;
}
