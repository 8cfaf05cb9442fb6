/**
 * The `svc` command line: `svc run|check|types|version`.
 * @module
 */
import { main } from "./runtime/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
