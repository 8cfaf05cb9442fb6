/**
 * Makes glibc give large freed buffers back to the operating system.
 *
 * Request and response buffers of 128 KiB and more (messages, inflated
 * requests, parked responses) are ArrayBuffers that V8 allocates with
 * malloc. glibc raises its mmap threshold after the first such buffer is
 * freed, so later ones come from its heap arenas and their pages stay in
 * the process when freed: after a burst of 1 MiB responses, RSS stayed at
 * +1.2 GiB while the live buffers were 124 MiB (issue 19; a 2,400 × 1 MiB
 * experiment: 593 MiB resident with 120 MiB live, 186 MiB with the
 * threshold fixed). Fixing the threshold at 128 KiB keeps such buffers in
 * their own mappings, which free() returns at once; the cost is an mmap
 * and munmap per large buffer, small beside copying it.
 *
 * Done with mallopt() through FFI when the process may use FFI (`svc run`
 * under `deno run -A`); a compiled binary has no FFI permission and reads
 * the same setting from MALLOC_MMAP_THRESHOLD_, which the Dockerfile sets.
 * @module
 */
import { openLibc } from "./libc.ts";

/** glibc's M_MMAP_THRESHOLD parameter of mallopt(). */
const M_MMAP_THRESHOLD = -3;
/** glibc's default (and minimum sensible) threshold. */
const THRESHOLD_BYTES = 128 * 1024;

/** How the threshold was fixed, or why it was not. */
export type MallocTuning = "env" | "mallopt" | "no-ffi" | "unavailable";

/** Fixes glibc's mmap threshold for this process, if it can; never throws. */
export function fixMmapThreshold(): MallocTuning {
  if (Deno.build.os !== "linux") return "unavailable";
  try {
    if (Deno.env.get("MALLOC_MMAP_THRESHOLD_")) return "env";
  } catch { /* no env permission: try FFI */ }
  const libc = openLibc({ mallopt: { parameters: ["i32", "i32"], result: "i32" } });
  if (!("lib" in libc)) return libc.unavailable === "no FFI permission" ? "no-ffi" : "unavailable";
  try {
    return libc.lib.symbols.mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES) === 1
      ? "mallopt"
      : "unavailable";
  } finally {
    libc.lib.close();
  }
}
