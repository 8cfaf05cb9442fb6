/** Help texts for `svc` and each command. */
import { VERSION } from "../core/version.ts";
export { VERSION };

export const USAGE =
  `svc ${VERSION}: a gRPC runtime for .proto files, a YAML config and handler files

Usage: svc <command> [options]

Commands:
  init [DIR]                 start a new service in DIR (default: here): config, proto, handler
  run [CONFIG]               serve until SIGTERM/SIGINT (CONFIG defaults to config/svc.yaml)
  dev [CONFIG] [--types]     serve, reloading handlers, protos and config on every change
  check [CONFIG]             load config, protos and handlers; report problems; serve nothing
  types [CONFIG] [-o FILE]   write TypeScript types and clients (default <handlers>/_types.ts)
  build [CONFIG] [-o FILE]   compile one binary with the handlers built in (default dist/svc)
  version                    print versions of svc, Deno and grpc-js

CONFIG defaults to config/svc.yaml, or to svc.yaml (where svc init writes it) if only that exists.
Run "svc <command> --help" for a command's details.
Exit codes: 0 success, 1 failure at run time, 2 bad usage, config, proto or handler.`;

export const COMMAND_HELP: Record<string, string> = {
  init: `Usage: svc init [DIR]

Starts a new service in DIR (default: the working directory; created if
missing), named after DIR: svc.yaml, proto/NAME.proto with one unary method,
handlers/NAME.ts implementing it, handlers/_types.ts (as "svc types" writes
it), a deno.json that maps "svc" to this runtime for deno check and editors,
and a .gitignore. Overwrites nothing: if any of these files exists it names
each one, exits 2 and writes nothing. Then, in DIR: "svc run" or "svc dev".

A binary built by "svc build" cannot run init: use the svc command installed
from a checkout (docs/development.md).`,
  run: `Usage: svc run [CONFIG]

Loads CONFIG (default config/svc.yaml), its protos and every handler file in
its handlers directory, then serves gRPC until SIGTERM or SIGINT. A second
signal exits at once. SIGHUP loads handlers, protos and config again, as
"svc dev" does on a change. Any key can be overridden by an SVC_* environment
variable (see docs/config.md).`,
  dev: `Usage: svc dev [CONFIG] [--types]

Serves like "svc run", with development defaults (pretty logs, no drain
delay, a 1 s grace period; SVC_* variables you set win), and watches the
handlers directory, middleware files, protos and CONFIG. On a change it loads
and checks everything again as "svc check" does: a bad set prints the same
lines and the last good one keeps serving; a good one replaces the methods
without closing the listener (calls in flight finish on the old code). A
change to other config keys (port, TLS, transport, limits, ...) restarts the
server in-process, and says why. One line per reload. --types also rewrites
<handlers>/_types.ts whenever the protos change. Ctrl-C stops it (exit 0).
Files that handler files import are not reloaded: restart for those.
See docs/development.md#development-loop.`,
  check: `Usage: svc check [CONFIG]

Loads CONFIG, its protos and handler files exactly as "svc run" would, prints
the services and methods found, and exits: 0 when everything loads, 2 with one
line per problem otherwise. Binds no port.`,
  types: `Usage: svc types [CONFIG] [-o FILE]

Writes TypeScript types for every message and service in the protos to FILE
(default: _types.ts in the handlers directory; files starting with "_" are not
served), and a typed client for each service under "dependencies", which
ctx.clients.get("pkg.Service") then returns. Use them in a handler file:

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
