/**
 * The `svc` command line: `svc run|dev|check|types|build|init|version` (runtime/cli/).
 * The CLI loads from a bundle when it can (runtime/cli/bundle/launch.ts).
 * @module
 */
// First: its evaluation marks the moment the module graph is loaded (SVC_STARTUP_TIMINGS=1).
import { startupMark } from "./runtime/util/startup_timings.ts";
import { loadCli } from "./runtime/cli/bundle/launch.ts";

if (import.meta.main) {
  startupMark("evaluated");
  const main = await loadCli();
  startupMark("cli");
  Deno.exit(await main(Deno.args));
}
