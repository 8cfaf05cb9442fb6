/** Help texts for `svc` and each command. */
import { VERSION } from "../core/version.ts";
export { VERSION };

export const USAGE =
  `svc ${VERSION}: a gRPC runtime for .proto files, a YAML config and handler files

Usage: svc <command> [options]

Commands:
  run [CONFIG]               serve until SIGTERM/SIGINT (CONFIG defaults to config/svc.yaml)
  check [CONFIG]             load config, protos and handlers; report problems; serve nothing
  types [CONFIG] [-o FILE]   write TypeScript types for the protos (default <handlers>/_types.ts)
  build [CONFIG] [-o FILE]   compile one binary with the handlers built in (default dist/svc)
  version                    print versions of svc, Deno and grpc-js

Run "svc <command> --help" for a command's details.
Exit codes: 0 success, 1 failure at run time, 2 bad usage, config, proto or handler.`;

export const COMMAND_HELP: Record<string, string> = {
  run: `Usage: svc run [CONFIG]

Loads CONFIG (default config/svc.yaml), its protos and every handler file in
its handlers directory, then serves gRPC until SIGTERM or SIGINT. A second
signal exits at once. Any key can be overridden by an SVC_* environment
variable (see docs/config.md).`,
  check: `Usage: svc check [CONFIG]

Loads CONFIG, its protos and handler files exactly as "svc run" would, prints
the services and methods found, and exits: 0 when everything loads, 2 with one
line per problem otherwise. Binds no port.`,
  types: `Usage: svc types [CONFIG] [-o FILE]

Writes TypeScript types for every message and service in the protos to FILE
(default: _types.ts in the handlers directory; files starting with "_" are not
served). Use them in a handler file:

  import type { GreeterHandlers } from "./_types.ts";
  export default defineService<GreeterHandlers>("helloworld.Greeter", { ... });`,
  build: `Usage: svc build [CONFIG] [-o FILE] [--allow-read PATH]...

Loads CONFIG as "svc check" does, writes dist/svc_manifest.ts (a literal
import of every handler and middleware file) and dist/svc_entry.ts, then runs
"deno compile" with the permissions the runtime needs into FILE (default
dist/svc). The binary answers "run", "check" and "version" like this CLI, with
the handlers built in; protos and the config are read from disk at run time.

The binary may read /etc/svc, the config's directory and every path the
config names. --allow-read PATH (repeatable) adds one, e.g. where a
container mounts certificates; the list is recorded in the manifest and
named when a read is refused.

deno compile needs a denort base binary; it downloads one unless DENORT_BIN
names a local copy (the offline escape hatch).`,
  version: `Usage: svc version

Prints the versions of svc, Deno, V8, TypeScript and grpc-js.`,
};
