/**
 * Hands the executable's start-up pages back, once
 * (`server.reclaimIdleMemory`).
 *
 * More than half of an idle svc's RSS is not svc's: ~55 of ~88 MiB are
 * pages of the deno executable that starting it touched (the TypeScript
 * transpiler, the module loader, npm resolution). Serving needs about half
 * of them. The kernel unmaps clean file pages only under memory pressure,
 * so until then the rest count in RSS and in a container's working set,
 * which is what `kubectl top`, the kubelet's eviction order and memory
 * autoscaling read. madvise(MADV_DONTNEED) unmaps them now; the ones
 * serving still uses come back on first touch, from the page cache (a
 * minor fault, no disk read). Measured on the bench server
 * (bench/README.md, "The executable's pages"): RSS idle 88 → 53 MiB,
 * after 10 s of small unary 119 → 94 MiB, at the same CPU per call.
 *
 * DONTNEED, not PAGEOUT: MADV_PAGEOUT also evicts the pages from the page
 * cache, so the next start of the binary on the node read them from disk
 * again, and the kernel leaves alone pages another process maps (the
 * `deno task` runner, the bench harness), which made it miss half of them.
 * DONTNEED on a private mapping discards pages this process wrote, though:
 * only read-only mappings whose pages are all the file's (smaps'
 * `Anonymous: 0 kB`) are advised. The relocated read-only data (RELRO) is
 * anonymous and stays. Deno's SQLite caches, mapped read-only and shared,
 * go too (~2 MiB): module loading read them, serving does not. Like
 * malloc_trim, this needs FFI: `svc run` (under `deno run -A`) has it, a
 * compiled binary does not and skips it.
 * @module
 */
import { openLibc } from "../util/libc.ts";

/** Linux's MADV_DONTNEED: unmap these pages; a file mapping's come back from the file. */
const MADV_DONTNEED = 4;

/** A range of the address space. */
export interface Mapping {
  readonly start: bigint;
  readonly length: bigint;
}

/** What unmapping did, or why it did not run. */
export type ExecutablePagesResult =
  | { readonly advisedMiB: number; readonly rssFileMiB: readonly [number, number] }
  | { readonly skipped: string };

/**
 * The mappings in /proc/self/smaps' text that unmapping loses nothing of:
 * `path`'s (the executable's) read-only ones that hold no page of their own
 * (`Anonymous: 0 kB`), and any file's read-only shared ones. The latter are
 * Deno's SQLite caches (the V8 code cache, module analysis: ~2 MiB that
 * loading the modules read and serving never does); a shared mapping's
 * pages are the file's, never private copies.
 */
export function releasableMappingsOf(smaps: string, path: string): Mapping[] {
  const out: Mapping[] = [];
  let current: Mapping | null = null;
  for (const line of smaps.split("\n")) {
    // "start-end perms offset dev inode    path"; the path may hold spaces.
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header !== null) {
      const [, first, end, perms, file] = header;
      const start = BigInt(`0x${first}`);
      const shared = perms === "r--s" && file.startsWith("/");
      current = (file === path && perms[1] !== "w") || shared
        ? { start, length: BigInt(`0x${end}`) - start }
        : null;
      continue;
    }
    if (current !== null && /^Anonymous:\s+0 kB$/.test(line)) {
      out.push(current);
      current = null;
    }
  }
  return out;
}

/** Unmaps this process's executable's file pages; never throws. */
export function releaseExecutablePages(): ExecutablePagesResult {
  const libc = openLibc({ madvise: { parameters: ["usize", "usize", "i32"], result: "i32" } });
  if (!("lib" in libc)) return { skipped: libc.unavailable };
  try {
    const mappings = releasableMappingsOf(
      Deno.readTextFileSync("/proc/self/smaps"),
      Deno.execPath(),
    );
    if (mappings.length === 0) return { skipped: "the executable is not mapped from a file" };
    const before = rssFileMiB();
    let advised = 0n;
    for (const { start, length } of mappings) {
      if (libc.lib.symbols.madvise(start, length, MADV_DONTNEED) !== 0) {
        return { skipped: "madvise(MADV_DONTNEED) refused" };
      }
      advised += length;
    }
    return { advisedMiB: mib(Number(advised)), rssFileMiB: [before, rssFileMiB()] };
  } catch (error) {
    return { skipped: (error as Error).message };
  } finally {
    libc.lib.close();
  }
}

/** The process's file-backed resident memory, MiB (/proc/self/status). */
function rssFileMiB(): number {
  const kib = /^RssFile:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
  return kib === undefined ? NaN : Math.round(Number(kib) / 1024);
}

function mib(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}
