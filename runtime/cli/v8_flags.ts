/**
 * The V8 settings svc runs with, where it is launched: `deno task svc` and
 * `deno task install` pass them as `--v8-flags` (deno.json, which a test
 * keeps equal to this), and `svc build` bakes them into the binary.
 *
 * The young generation is capped at 4 MiB per semi-space. V8 grows it
 * while objects keep surviving scavenges, up to 32 MiB per semi-space on
 * a 64-bit machine (v8_flags_test.ts), and both semi-spaces stay resident:
 * under steady small calls that growth alone added 12–13 MiB of RSS for no
 * gain in speed (session 13 capped it at 8). 4 MiB saves 6 MiB more (V8's
 * pages under small calls 26.4 → 20.4 MiB) now that no pooled buffer is
 * promoted by the more frequent scavenges (hpack/encoder.ts,
 * message_copies.ts); before that, glibc's arena grew by what V8's pages
 * lost. Same run, same tree (bench/README.md, "Issue 20, session 15"):
 * small calls, streams, client streams and bidi at the same CPU per call,
 * 64 KiB calls ~10 % more (V8 runs twice as many full GCs on their
 * external-memory pressure). 2 MiB costs CPU: client streaming went from
 * 30 to 48 µs per call.
 *
 * Flags given with `--v8-flags` win over DENO_V8_FLAGS: to run with other
 * settings, edit the task or run `deno run -A --v8-flags=... main.ts`.
 * @module
 */

/** V8 flags for every svc process. */
export const SVC_V8_FLAGS: readonly string[] = ["--max-semi-space-size=4"];

/** The `--v8-flags=...` argument for deno run, install and compile. */
export function v8FlagsArgument(): string {
  return `--v8-flags=${SVC_V8_FLAGS.join(",")}`;
}
