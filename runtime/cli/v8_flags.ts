/**
 * The V8 settings svc runs with, where it is launched: `deno task svc` and
 * `deno task install` pass them as `--v8-flags` (deno.json, which a test
 * keeps equal to this), and `svc build` bakes them into the binary.
 *
 * The young generation is capped at 8 MiB per semi-space. V8 grows it
 * while objects keep surviving scavenges, up to 32 MiB per semi-space on
 * a 64-bit machine (v8_flags_test.ts). Under steady small calls the bench's
 * server went from 8 to 15 and then 28 MiB of new space (two semi-spaces)
 * within 20 s, for no gain in speed: its scavenges take ~0.1 ms whatever
 * the size. That growth alone added 12–13 MiB of RSS, and with the cap the
 * same load ran at the same calls per CPU second (bench/README.md, "Issue
 * 20, session 13"). Smaller still costs CPU: at 2 MiB the scavenges come
 * four times as often and small calls lost ~3 %.
 *
 * Flags given with `--v8-flags` win over DENO_V8_FLAGS: to run with other
 * settings, edit the task or run `deno run -A --v8-flags=... main.ts`.
 * @module
 */

/** V8 flags for every svc process. */
export const SVC_V8_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

/** The `--v8-flags=...` argument for deno run, install and compile. */
export function v8FlagsArgument(): string {
  return `--v8-flags=${SVC_V8_FLAGS.join(",")}`;
}
