/**
 * Argument parsing and exit codes for the `svc` CLI.
 * @module
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { formatIssue, UserInputError } from "../core/errors.ts";
import { flushLogs } from "../log/mod.ts";
import type { LoadAppOptions } from "../app/load.ts";
import {
  buildCommand,
  checkCommand,
  runCommand,
  typesCommand,
  versionCommand,
} from "./commands.ts";
import { initCommand } from "./init.ts";
import { COMMAND_HELP, USAGE } from "./usage.ts";
import { devApp } from "../app/dev.ts";

const DEFAULT_CONFIG = "config/svc.yaml";
/** Where `svc init` writes the config: used when no CONFIG is given and DEFAULT_CONFIG is absent. */
const INIT_CONFIG = "svc.yaml";

/**
 * Handler and (client) middleware sources built into a binary by `svc build`.
 * Without them the CLI walks the config's handlers directory.
 */
export interface MainOptions
  extends Pick<LoadAppOptions, "handlerSources" | "middlewareSources" | "clientMiddlewareSources"> {
  /** What a built binary may read (its --allow-read); named when a read is refused. */
  readPaths?: readonly string[];
  /** The manifest module's URL, which `server.workers` import their handlers from. */
  manifest?: string;
}

/** Runs the CLI with `args`; resolves with the exit code. */
export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  const [command, ...rest] = args;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === "--version" || command === "-v") return versionCommand();
  if (!(command in COMMAND_HELP)) {
    console.error(`svc: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        output: { type: "string", short: "o" },
        "allow-read": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
        types: { type: "boolean" },
      },
    });
  } catch (error) {
    console.error(`svc ${command}: ${(error as Error).message}\n\n${COMMAND_HELP[command]}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(COMMAND_HELP[command]);
    return 0;
  }
  if (
    positionals.length > 1 || (values.output && command !== "types" && command !== "build") ||
    (values["allow-read"] && command !== "build") || (values.types && command !== "dev")
  ) {
    console.error(`svc ${command}: unexpected arguments\n\n${COMMAND_HELP[command]}`);
    return 2;
  }
  const config = positionals[0] ?? defaultConfig();
  try {
    switch (command) {
      case "run":
        return await runCommand(config, options);
      case "check":
        return await checkCommand(config, options);
      case "dev":
        if (options.handlerSources) {
          // Its handlers are compiled in: there is nothing on disk to watch.
          console.error("svc dev: this is a built binary; run svc dev from the source tree");
          return 2;
        }
        return await devApp(config, { types: values.types });
      case "types":
        return await typesCommand(config, values.output);
      case "init":
        return await initCommand(positionals[0] ?? ".", {
          builtBinary: options.handlerSources !== undefined,
        });
      case "build":
        if (options.handlerSources) {
          // A compiled binary holds no deno toolchain to compile with.
          console.error("svc build: this is a built binary; run svc build from the source tree");
          return 2;
        }
        return await buildCommand(config, values.output, values["allow-read"]);
      default:
        return versionCommand();
    }
  } catch (error) {
    return reportFailure(error, options.readPaths);
  }
}

/** CONFIG when none is given: config/svc.yaml, or svc.yaml when only that exists. */
function defaultConfig(): string {
  const exists = (path: string) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  };
  return !exists(DEFAULT_CONFIG) && exists(INIT_CONFIG) ? INIT_CONFIG : DEFAULT_CONFIG;
}

function reportFailure(error: unknown, readPaths?: readonly string[]): number {
  // Log lines written before the failure come before its message.
  flushLogs();
  if (error instanceof UserInputError) {
    for (const issue of error.issues) {
      console.error(formatIssue({ ...issue, file: displayPath(issue.file) }));
    }
    if (readPaths && error.issues.some((i) => READ_REFUSED.test(i.message))) {
      console.error(readPathsHint(readPaths));
    }
    if (error.hint) console.error(`\nhint: ${error.hint}`);
    return 2;
  }
  // Run-time failures (port in use, unreadable cert): one line, no stack,
  // unless SVC_DEBUG asks for it.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`svc: ${message}`);
  if (readPaths && READ_REFUSED.test(message)) console.error(readPathsHint(readPaths));
  if (Deno.env.get("SVC_DEBUG") && error instanceof Error) console.error(error.stack);
  return 1;
}

/** Deno's words when a read is not permitted (Deno.errors.NotCapable). */
const READ_REFUSED = /Requires read access to /;

// Deno's own advice ("run again with the --allow-read flag") does not apply to a built binary.
function readPathsHint(readPaths: readonly string[]): string {
  return `svc: this binary may read only ${readPaths.join(", ")}; ` +
    "build it again with svc build --allow-read PATH for files mounted elsewhere";
}

// Paths under the working directory read better relative.
function displayPath(path: string): string {
  const short = relative(Deno.cwd(), path);
  return short && !short.startsWith("..") ? short : path;
}
