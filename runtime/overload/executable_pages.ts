/**
 * Hands the executable's start-up pages back to the kernel, once
 * (`server.reclaimIdleMemory`).
 *
 * More than half of an idle svc's RSS is not svc's: ~55 of ~88 MiB are
 * pages of the deno executable that starting it touched (the TypeScript
 * transpiler, the module loader, npm resolution). Serving needs about half
 * of them. The kernel drops clean file pages only under memory pressure,
 * so until then the rest count in RSS and in a container's working set,
 * which is what `kubectl top`, the kubelet's eviction order and memory
 * autoscaling read. madvise(MADV_PAGEOUT) (Linux 5.4+) drops them now; the
 * ones serving still uses come back on first touch. Measured on the bench
 * server (bench/README.md, "The executable's pages"): RSS idle 88 → 33 MiB,
 * after 10 s of small unary 118 → 90 MiB, at the same CPU per call; the
 * madvise blocks the loop for ~30 ms and the next calls pay ~35 ms of page
 * faults between them, once.
 *
 * Only read-only mappings are advised: the writable ones hold relocated,
 * anonymous copies that have no file to come back from. Pages another
 * process maps too (a second svc from the same image) are left alone by the
 * kernel. Like malloc_trim, this needs FFI: `svc run` (under `deno run -A`)
 * has it, a compiled binary does not and skips it.
 * @module
 */

/** Linux's MADV_PAGEOUT (5.4+): reclaim these pages now. */
const MADV_PAGEOUT = 21;

/** A range of the address space. */
export interface Mapping {
  readonly start: bigint;
  readonly length: bigint;
}

/** What paging out did, or why it did not run. */
export type PageOutResult =
  | { readonly advisedMiB: number; readonly rssFileMiB: readonly [number, number] }
  | { readonly skipped: string };

/** The read-only mappings of `path` in /proc/self/maps' text. */
export function readOnlyMappingsOf(maps: string, path: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of maps.split("\n")) {
    // "start-end perms offset dev inode    path"; the path may hold spaces.
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s+(.+)$/.exec(line);
    if (m === null || m[4] !== path || m[3][1] === "w") continue;
    const start = BigInt(`0x${m[1]}`);
    out.push({ start, length: BigInt(`0x${m[2]}`) - start });
  }
  return out;
}

/** Pages out this process's executable; never throws. */
export function pageOutExecutable(): PageOutResult {
  if (Deno.build.os !== "linux") return { skipped: "not Linux" };
  let libc;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return { skipped: "no FFI permission" };
    }
    libc = Deno.dlopen("libc.so.6", {
      madvise: { parameters: ["usize", "usize", "i32"], result: "i32" },
    });
  } catch {
    return { skipped: "no glibc" }; // musl, or a static build
  }
  try {
    const mappings = readOnlyMappingsOf(Deno.readTextFileSync("/proc/self/maps"), Deno.execPath());
    if (mappings.length === 0) return { skipped: "the executable is not mapped from a file" };
    const before = rssFileMiB();
    let advised = 0n;
    for (const { start, length } of mappings) {
      if (libc.symbols.madvise(start, length, MADV_PAGEOUT) !== 0) {
        return { skipped: "madvise(MADV_PAGEOUT) refused: Linux before 5.4?" };
      }
      advised += length;
    }
    return { advisedMiB: mib(Number(advised)), rssFileMiB: [before, rssFileMiB()] };
  } catch (error) {
    return { skipped: (error as Error).message };
  } finally {
    libc.close();
  }
}

/** The process's file-backed resident memory, MiB (/proc/self/status). */
export function rssFileMiB(): number {
  const kib = /^RssFile:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
  return kib === undefined ? NaN : Math.round(Number(kib) / 1024);
}

function mib(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}
