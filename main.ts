/**
 * The `svc` command line: `svc run|dev|check|types|build|init|version` (runtime/cli/).
 * @module
 */
import { main } from "./runtime/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
