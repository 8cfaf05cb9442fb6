/**
 * Runs _churn_probe.ts in a process of its own (tests). Live state is 32
 * calls of ~0.5 KiB; a structure that lets finished calls survive scavenges
 * peaks at 70–100 MiB, one that does not at ~10.
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** Well above the ~10 MiB a churn that frees its calls peaks at, well below the 70+ of one that does not. */
export const CHURN_PEAK_LIMIT_MIB = 30;

/** The peak V8 heap, MiB, of 600,000 calls through `kind` (see _churn_probe.ts). */
export async function churnPeakMiB(kind: "map" | "open" | "timers" | "deadlines"): Promise<number> {
  const script = fileURLToPath(new URL("./_churn_probe.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--expose-gc", script, kind],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.equal(out.code, 0, `${kind} probe failed`);
  return Number(new TextDecoder().decode(out.stdout).trim());
}
