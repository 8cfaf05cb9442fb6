/**
 * Gives memory back to the operating system on demand: a full V8 garbage
 * collection, then glibc's `malloc_trim(0)`.
 *
 * V8 sizes its heap from the machine's RAM and returns committed pages
 * only 15–30 s after load stops; after 10 s of small unary calls the demo
 * held ~88 MiB of heap with 13–16 MiB live, and a forced full GC took RSS
 * 239 → 137 MiB, malloc_trim(0) → 104 MiB (bench/issue20_measurements.md).
 * So near its limit the process collects now rather than refuse calls for
 * memory that is garbage.
 *
 * `gc()` is not exposed without `--expose-gc`, and Deno reads V8 flags only
 * at start; setting the flag at run time and fetching `gc` from a new
 * context works (Deno 2.8) and costs nothing until called. malloc_trim is
 * called through FFI the way util/malloc_tuning.ts calls mallopt: only with
 * FFI permission (`svc run` under `deno run -A`; a compiled binary has none,
 * and then only the GC runs).
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";
import { openLibc } from "../util/libc.ts";

/** Runs a full GC and trims malloc's free pages; `close` unloads libc. */
export interface Reclaimer {
  /** Whether malloc_trim is available (glibc and FFI permission). */
  readonly trims: boolean;
  reclaim(): void;
  /** malloc_trim(0) alone, no GC: what can run under load (a few ms); nothing without libc. */
  trim(): void;
  close(): void;
}

/** The reclaimer for this process; null when V8 will not expose `gc`. */
export function processReclaimer(): Reclaimer | null {
  const gc = _exposeGc();
  if (gc === null) return null;
  const libc = _openLibc();
  return {
    trims: libc !== null,
    reclaim() {
      gc();
      libc?.symbols.malloc_trim(0n);
    },
    trim() {
      libc?.symbols.malloc_trim(0n);
    },
    close() {
      libc?.close();
    },
  };
}

function _exposeGc(): (() => void) | null {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc: unknown = vm.runInNewContext("gc");
    return typeof gc === "function" ? gc as () => void : null;
  } catch {
    return null;
  }
}

function _openLibc() {
  const libc = openLibc({ malloc_trim: { parameters: ["usize"], result: "i32" } });
  return "lib" in libc ? libc.lib : null;
}
