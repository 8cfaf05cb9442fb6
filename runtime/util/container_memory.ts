/**
 * What memory this process may use: the container's limit from its cgroup
 * (v2 `memory.max`, or v1 `memory.limit_in_bytes`) and V8's heap limit,
 * and the memory budget derived from them. V8 sizes its heap from the
 * machine's RAM, not the container's, so a 256 MiB pod on a 16 GiB node
 * gets a 4 GiB heap limit: the kernel's OOM killer then ends the process
 * long before V8 would. Hence the budget takes the smaller of the two.
 * @module
 */
import { getHeapStatistics } from "node:v8";

/** Part of the smaller limit that the budget may use; the rest is the process's own. */
export const BUDGET_SHARE = 0.5;

/** Limits above this are "no limit" (cgroup v1 writes 2^63 rounded to a page). */
const UNLIMITED = 2 ** 52;

/**
 * The memory limit of the cgroup this process runs in, in bytes, or null
 * when there is none. `root` and `self` are the cgroup mount and
 * /proc/self/cgroup, parameters so a test can point them at fixtures.
 */
export function containerMemoryLimit(
  root = "/sys/fs/cgroup",
  self = "/proc/self/cgroup",
): number | null {
  let membership = "";
  try {
    membership = Deno.readTextFileSync(self);
  } catch {
    return null; // not Linux, or /proc not mounted: no container limit we can see
  }
  const candidates: string[] = [];
  for (const line of membership.split("\n")) {
    const [, controllers, path] = line.split(":", 3) as (string | undefined)[];
    if (path === undefined) continue;
    // v2: "0::/path"; v1: "4:memory:/path". Inside a container the path is
    // often that of the host; the namespace root then holds the files.
    if (controllers === "") candidates.push(`${root}${path}/memory.max`, `${root}/memory.max`);
    if (controllers?.split(",").includes("memory")) {
      candidates.push(
        `${root}/memory${path}/memory.limit_in_bytes`,
        `${root}/memory/memory.limit_in_bytes`,
      );
    }
  }
  for (const file of candidates) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file).trim();
    } catch {
      continue;
    }
    if (text === "max") return null;
    const bytes = Number(text);
    if (!Number.isFinite(bytes) || bytes <= 0) continue;
    return bytes >= UNLIMITED ? null : bytes;
  }
  return null;
}

/** V8's heap limit for this process (set with `--max-old-space-size`). */
export function heapLimit(): number {
  return getHeapStatistics().heap_size_limit;
}

/** Where a memory budget came from, for the start-up log. */
export interface MemoryBudgetChoice {
  readonly bytes: number;
  readonly source: "config" | "container" | "memoryLimit" | "heap";
  readonly containerLimit: number | null;
  /** `server.memoryLimitBytes` when configured (> 0), else null. */
  readonly memoryLimit: number | null;
  readonly heapLimit: number;
  /** Set when V8 may grow past the container's limit: what to do about it. */
  readonly warning: string | null;
}

/**
 * The budget: `configured` when it is not 0, else {@link BUDGET_SHARE} of
 * the smallest of the container's limit, `server.memoryLimitBytes` (when
 * configured: a budget above the limit svc sheds at would never be reached)
 * and the heap limit.
 */
export function chooseMemoryBudget(
  configured: number,
  container: number | null,
  heap: number,
  memoryLimit: number | null = null,
): MemoryBudgetChoice {
  const mib = (n: number) => Math.round(n / 2 ** 20);
  const warning = container !== null && heap > container
    ? `V8's heap limit (${mib(heap)} MiB) is above the container's memory limit ` +
      `(${mib(container)} MiB): the kernel would kill the process before V8 collects; ` +
      `run with DENO_V8_FLAGS=--max-old-space-size=${mib(container * 0.75)}`
    : null;
  const limits = { containerLimit: container, memoryLimit, heapLimit: heap, warning };
  if (configured > 0) return { bytes: configured, source: "config", ...limits };
  let source: MemoryBudgetChoice["source"] = "heap";
  let smallest = heap;
  if (container !== null && container < smallest) [source, smallest] = ["container", container];
  if (memoryLimit !== null && memoryLimit < smallest) {
    [source, smallest] = ["memoryLimit", memoryLimit];
  }
  return { bytes: Math.floor(BUDGET_SHARE * smallest), source, ...limits };
}
