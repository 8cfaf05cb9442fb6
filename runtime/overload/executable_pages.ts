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
  | {
    readonly advisedMiB: number;
    readonly rssFileMiB: readonly [number, number];
    /** Pieces madvise refused (a range unmapped meanwhile). */
    readonly refused: number;
    /** The longest the event loop was held by one step, ms. */
    readonly pauseMs: number;
    /** From start to end, other work in between, ms. */
    readonly tookMs: number;
  }
  | { readonly skipped: string };

/**
 * One smaps header: "start-end perms offset dev inode    path" (the path
 * may hold spaces). A regular expression over the whole text, not a loop
 * over its ~3,000 lines: the loop ran once per process, interpreted, and
 * V8 then spent ~5 ms compiling it (OSR) on the helper thread, which shares
 * the serving core when the process is pinned to one.
 */
const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+[ \t]*(.*)$/gm;

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
  const headers = [...smaps.matchAll(HEADER)];
  headers.forEach((header, i) => {
    const [, first, end, perms, file] = header;
    const shared = perms === "r--s" && file.startsWith("/");
    if (!((file === path && perms[1] !== "w") || shared)) return;
    // The mapping's fields run from its header to the next one.
    const fields = smaps.slice(header.index, headers[i + 1]?.index ?? smaps.length);
    if (!/^Anonymous:\s+0 kB$/m.test(fields)) return;
    const start = BigInt(`0x${first}`);
    out.push({ start, length: BigInt(`0x${end}`) - start });
  });
  return out;
}

/**
 * What one `madvise` unmaps before the event loop gets a turn: ~0.15 ms of
 * page-table work here, where the whole ~110 MiB at once held the loop for
 * 2 ms (and reading and parsing smaps for 5 more).
 */
export const CHUNK_BYTES = 8n * 1024n * 1024n;

/**
 * Unmaps this process's executable's file pages; never throws. Reading
 * smaps (~2 ms of kernel work walking every mapping) runs off the event
 * loop, and the unmapping goes in {@link CHUNK_BYTES} pieces with a timer
 * turn between them, so calls keep being served throughout: no step holds
 * the loop for more than about a millisecond (`pauseMs`, the longest one;
 * `tookMs`, the whole). An aborted `signal` (shutdown began) stops it
 * between pieces.
 */
export async function releaseExecutablePages(
  signal?: AbortSignal,
): Promise<ExecutablePagesResult> {
  const started = performance.now();
  let pauseMs = 0;
  /** Runs one step on the loop and keeps the longest. */
  const step = <T>(run: () => T): T => {
    const from = performance.now();
    try {
      return run();
    } finally {
      pauseMs = Math.max(pauseMs, performance.now() - from);
    }
  };
  const libc = step(() =>
    openLibc({ madvise: { parameters: ["usize", "usize", "i32"], result: "i32" } })
  );
  if (!("lib" in libc)) return { skipped: libc.unavailable };
  try {
    const smaps = await Deno.readTextFile("/proc/self/smaps");
    const mappings = step(() => releasableMappingsOf(smaps, Deno.execPath()));
    if (mappings.length === 0) return { skipped: "the executable is not mapped from a file" };
    const before = step(rssFileMiB);
    let advised = 0n;
    let refused = 0;
    for (const { start, length } of mappings) {
      for (let offset = 0n; offset < length; offset += CHUNK_BYTES) {
        if (signal?.aborted) return { skipped: "stopped" };
        const size = length - offset < CHUNK_BYTES ? length - offset : CHUNK_BYTES;
        // A range that is gone (a cache Deno closed meanwhile) is refused, not fatal.
        const ok = step(() => libc.lib.symbols.madvise(start + offset, size, MADV_DONTNEED)) === 0;
        if (ok) advised += size;
        else refused++;
        await nextTurn();
      }
    }
    if (advised === 0n) return { skipped: "madvise(MADV_DONTNEED) refused" };
    return {
      advisedMiB: mib(Number(advised)),
      rssFileMiB: [before, step(rssFileMiB)],
      refused,
      pauseMs: round(pauseMs),
      tookMs: round(performance.now() - started),
    };
  } catch (error) {
    return { skipped: (error as Error).message };
  } finally {
    libc.lib.close();
  }
}

/** A timer turn: calls that arrived meanwhile are served before the next piece. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The process's file-backed resident memory, MiB (/proc/self/status). */
function rssFileMiB(): number {
  const kib = /^RssFile:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
  return kib === undefined ? NaN : Math.round(Number(kib) / 1024);
}

function mib(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
