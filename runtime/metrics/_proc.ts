/**
 * Readings from /proc (Linux) for the process metrics, the way
 * client_golang takes them.
 * @module
 */

/** The /proc readings, in bytes and counts; NaN when missing. */
export interface ProcReadings {
  /** VmSize. */
  virtual: number;
  /** VmData. */
  data: number;
  openFds: number;
  /** The soft limit; NaN when unlimited. */
  maxFds: number;
}

/** /proc values; a failed read (e.g. no --allow-read) leaves NaN, so the series is omitted. */
export async function sampleProc(s: ProcReadings): Promise<void> {
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
 * Process start (epoch seconds) as client_golang computes it: boot time plus the start
 * tick from /proc/self/stat (USER_HZ is 100 on Linux). Elsewhere, Deno's
 * time origin.
 */
export function processStartTime(): number {
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
