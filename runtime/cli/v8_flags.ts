/**
 * The V8 settings svc runs with, where it is launched: `deno task svc` and
 * `deno task install` pass them as `--v8-flags` (deno.json, which a test
 * keeps equal to this), and `svc build` bakes them into the binary.
 *
 * The young generation is capped at 2 MiB per semi-space. V8 grows it
 * while objects keep surviving scavenges, up to 32 MiB per semi-space on
 * a 64-bit machine, and both semi-spaces stay resident: under steady small
 * calls an uncapped young generation added 12–13 MiB of RSS for no gain in
 * speed; 8 MiB (session 13) and 4 (session 15) were steps down, each
 * affordable once the call path stopped making objects that outlive a few
 * scavenges (hpack/encoder.ts, message_copies.ts, call_requests.ts's queue).
 *
 * Allocation-site pretenuring is off. V8 watches where objects are made
 * and, when many from one place survive scavenges, makes that place's
 * objects in the old generation from then on. A call's state does survive
 * a scavenge or two, then dies: pretenured, it piled up as old garbage for
 * full GCs to find. Under client streaming that was 25 full GCs in 12 s
 * instead of 2, 24 µs of CPU per call instead of 21 and 100+ MiB of RSS
 * instead of 75.
 *
 * Same run against the flags before (4 MiB, pretenuring on;
 * bench/README.md, "Issue 20, session 16"): RSS after small calls 63–64
 * MiB against 68; small calls and bidi at the same CPU per call; client
 * streaming +10 %, server streaming +8 %, 64 KiB calls +3 %. A service of
 * streams or large messages can take `--max-semi-space-size=4` with
 * pretenuring still off: 5 MiB more, and client streaming 10 % cheaper
 * than before instead of 10 % dearer.
 *
 * Flags given with `--v8-flags` win over DENO_V8_FLAGS: to run with other
 * settings, edit the task or run `deno run -A --v8-flags=... main.ts`.
 * @module
 */

/** V8 flags for every svc process. */
export const SVC_V8_FLAGS: readonly string[] = [
  "--max-semi-space-size=2",
  "--no-allocation-site-pretenuring",
];

/** The `--v8-flags=...` argument for deno run, install and compile. */
export function v8FlagsArgument(): string {
  return `--v8-flags=${SVC_V8_FLAGS.join(",")}`;
}
