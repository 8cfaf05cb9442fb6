/**
 * `svc build`: write the handler manifest and the entry module into a build
 * directory, then run `deno compile` on the entry with the narrow
 * permission set of permissions.ts.
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { loadApp } from "../../app/load.ts";
import { DENORT_ENV, denortMissingMessage } from "./denort.ts";
import { MANIFEST_FILE, writeEntry } from "./entry.ts";
import { runtimeFile, writeManifest, type WrittenManifest } from "./manifest.ts";
import { type PermissionOptions, readPaths, runtimePermissionFlags } from "./permissions.ts";
import { v8FlagsArgument } from "../v8_flags.ts";

/** Options for {@link buildBinary}. */
export interface BuildOptions extends PermissionOptions {
  /** The config file whose handlers are built in. */
  config: string;
  /** The binary to write. Default `dist/svc`. */
  output?: string;
  /** Where the manifest and entry module go. Default `dist`. */
  buildDir?: string;
  /** A denort binary; passed to `deno compile` as `DENORT_BIN`. Default: `$DENORT_BIN`. */
  denortBin?: string;
  /** The deno executable. Default: the one running this code. */
  denoBin?: string;
  /** deno.json for import maps and npm packages. Default: found from the working directory up. */
  denoConfig?: string | null;
  /** Environment for config expansion and for `deno compile`. Default: the process's. */
  env?: Record<string, string>;
  /** `deno compile` is killed after this long. Default 10 minutes. */
  timeoutMs?: number;
}

/** What {@link buildBinary} produced. */
export interface BuildResult {
  /** Absolute path of the binary. */
  output: string;
  manifest: WrittenManifest;
  /** Absolute path of the generated entry module. */
  entry: string;
  /** The `deno compile` arguments used (after the executable). */
  args: string[];
}

/** A build that could not finish; `message` is what the CLI prints, without a stack. */
export class BuildError extends Error {
  override readonly name = "BuildError";
}

/** The worker threads' entry module (app/workers/), embedded in every binary. */
export const WORKER_MODULE: string = runtimeFile("../../app/workers/worker_main.ts");

/** Inputs of {@link compileArgs}. */
export interface CompileArgsOptions {
  entry: string;
  output: string;
  permissions: readonly string[];
  denoConfig?: string | null;
}

/**
 * The `deno compile` argument list: permission flags (baked into the
 * binary), the deno.json to resolve `"svc"` and npm packages with, the
 * output, and the entry module. Protos are not embedded: they are read from
 * disk next to the config, so one binary serves any proto set it has
 * handlers for, and reflection reads the same files.
 *
 * @example
 * ```ts
 * compileArgs({ entry: "/app/dist/svc_entry.ts", output: "/app/dist/svc", permissions: ["--allow-net"] });
 * // ["compile", "--allow-net", "--v8-flags=--max-semi-space-size=2,...", "--include",
 * //  "<runtime>/app/workers/worker_main.ts",
 * //  "--output", "/app/dist/svc", "/app/dist/svc_entry.ts"]
 * ```
 */
export function compileArgs(options: CompileArgsOptions): string[] {
  return [
    "compile",
    ...options.permissions,
    // Baked in, as `deno task svc` passes them (cli/v8_flags.ts).
    v8FlagsArgument(),
    ...(options.denoConfig ? ["--config", options.denoConfig] : []),
    // `server.workers` starts this module as a Worker; deno compile embeds
    // a worker's module only when told to.
    "--include",
    WORKER_MODULE,
    "--output",
    options.output,
    options.entry,
  ];
}

/**
 * Loads the app as `svc check` does (config, protos, handlers, middleware; a
 * mistake throws the usual UserInputError), writes
 * `<buildDir>/svc_manifest.ts` and `<buildDir>/svc_entry.ts`, and compiles
 * the entry into `output`.
 *
 * @throws {BuildError} when deno cannot be run, denort cannot be had
 * (one line naming `DENORT_BIN`), or `deno compile` fails (its diagnostics
 * in the message).
 *
 * @example
 * ```ts ignore
 * const { output } = await buildBinary({ config: "config/svc.yaml", output: "dist/svc" });
 * ```
 */
export async function buildBinary(options: BuildOptions): Promise<BuildResult> {
  const env = options.env ?? Deno.env.toObject();
  // What `svc check` does: a bad config, proto, handler or middleware file
  // stops the build with the usual messages (exit 2), before deno compile.
  const { config } = await loadApp(options.config, { env });
  const buildDir = resolve(options.buildDir ?? "dist");
  const output = resolve(options.output ?? join(buildDir, "svc"));
  const manifest = await writeManifest(
    config,
    join(buildDir, MANIFEST_FILE),
    options.allowAll ? [] : readPaths(config, options.allowRead),
  );
  const entry = await writeEntry(buildDir);
  const denoConfig = options.denoConfig === undefined
    ? findDenoConfig(Deno.cwd())
    : options.denoConfig;
  const args = compileArgs({
    entry,
    output,
    permissions: runtimePermissionFlags(config, options),
    denoConfig,
  });
  const denort = options.denortBin ?? env[DENORT_ENV];
  if (denort && !(await Deno.stat(denort).catch(() => null))?.isFile) {
    throw new BuildError(denortMissingMessage(`${DENORT_ENV}=${denort} is not a file`));
  }
  await Deno.mkdir(dirname(output), { recursive: true });
  // An empty DENORT_BIN would make deno look for a file named "".
  const { [DENORT_ENV]: _unset, ...rest } = env;
  const childEnv = denort ? { ...rest, [DENORT_ENV]: denort } : rest;
  try {
    await _runCompile(options.denoBin ?? Deno.execPath(), args, childEnv, options.timeoutMs);
  } catch (error) {
    await _removePartial(output);
    throw error;
  }
  return { output, manifest, entry, args };
}

/** The nearest `deno.json` or `deno.jsonc` from `dir` upwards, or null. */
export function findDenoConfig(dir: string): string | null {
  for (let current = resolve(dir);; current = dirname(current)) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const file = join(current, name);
      if (_isFile(file)) return file;
    }
    if (dirname(current) === current) return null;
  }
}

/**
 * Turns `deno compile`'s stderr into a BuildError message: one line naming
 * `DENORT_BIN` when denort could not be downloaded or found, else deno's
 * diagnostics without the Rust backtrace.
 */
export function compileFailure(stderr: string, code: number): string {
  // deno colours its output; escapes in a one-line error are noise.
  // deno-lint-ignore no-control-regex
  const plain = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  const diagnostics = plain.split(/\n\s*Stack backtrace:/)[0].trim();
  if (/denort|dl\.deno\.land|Setting up base binary/i.test(diagnostics)) {
    // The last "N: cause" line of "Caused by:" is the root cause.
    const causes = [...diagnostics.matchAll(/^\s*\d+: (.+)$/gm)].map((m) => m[1].trim());
    return denortMissingMessage(causes.at(-1) ?? diagnostics.split("\n").at(-1) ?? "unknown");
  }
  return `deno compile failed (exit code ${code}):\n${diagnostics}`;
}

async function _runCompile(
  deno: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 600_000,
): Promise<void> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(deno, {
      args,
      env: { ...env, NO_COLOR: "1" },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new BuildError(
      `cannot run "${deno}" (${(error as Error).message}); ` +
        `svc build needs Deno ${Deno.version.deno} (npm install deno@${Deno.version.deno})`,
    );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<null>((resolve) =>
    timer = setTimeout(() => resolve(null), timeoutMs)
  );
  const output = child.output();
  const result = await Promise.race([output, timedOut]);
  clearTimeout(timer);
  if (result === null) {
    child.kill("SIGKILL");
    await output;
    throw new BuildError(`deno compile did not finish within ${timeoutMs / 1000}s`);
  }
  if (!result.success) {
    throw new BuildError(compileFailure(new TextDecoder().decode(result.stderr), result.code));
  }
}

// deno compile writes `<output>.tmp-<random>` first and leaves it behind when it fails.
async function _removePartial(output: string): Promise<void> {
  const prefix = `${basename(output)}.tmp-`;
  for await (const entry of Deno.readDir(dirname(output))) {
    if (entry.isFile && entry.name.startsWith(prefix)) {
      await Deno.remove(join(dirname(output), entry.name)).catch(() => {});
    }
  }
}

function _isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
