/**
 * `svc init [DIR]`: a new service directory that `svc check`, `svc run` and
 * `deno check` accept as written. It overwrites nothing.
 * @module
 */
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Issue, UserInputError } from "../core/errors.ts";
import { loadConfig } from "../config/mod.ts";
import { generateTypes, loadProtos } from "../protos/mod.ts";
import {
  configTemplate,
  denoJsonTemplate,
  GITIGNORE,
  handlerTemplate,
  type InitNames,
  initNames,
  protoTemplate,
} from "./init_templates.ts";

/** Options for {@link initCommand}. */
export interface InitOptions {
  /**
   * True in a binary built by `svc build`: it holds no runtime checkout for
   * the new deno.json to point at, so init refuses.
   */
  builtBinary?: boolean;
}

/** The runtime's own deno.json, beside runtime/. */
const RUNTIME_DENO_JSON = new URL("../../deno.json", import.meta.url);
/** What handler files import as "svc". */
const RUNTIME_MOD = new URL("../mod.ts", import.meta.url);

/**
 * `svc init [DIR]` (default: the working directory): writes svc.yaml, a
 * proto, its handler, the generated `_types.ts`, a deno.json and a
 * .gitignore. Throws UserInputError naming every file that already exists,
 * before writing anything.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await initCommand("shop"));
 * ```
 */
export async function initCommand(dir: string, options: InitOptions = {}): Promise<number> {
  if (options.builtBinary) {
    console.error(
      "svc init: this is a built binary, with no svc checkout for the new service to import; " +
        "run svc init from an installed svc (docs/development.md#install-the-svc-command)",
    );
    return 2;
  }
  const root = resolve(dir);
  const names = initNames(basename(root) || "svc");
  const files = plannedFiles(names);
  await refuseExisting(root, files);
  const denoJson = denoJsonTemplate(...await runtimeImports());

  await Deno.mkdir(join(root, "proto"), { recursive: true });
  await Deno.mkdir(join(root, "handlers"), { recursive: true });
  await writeNew(join(root, files.config), configTemplate(names));
  await writeNew(join(root, files.proto), protoTemplate(names));
  // The same steps as `svc types`, on the files just written.
  const config = await loadConfig(join(root, files.config), { env: {} });
  const types = generateTypes(await loadProtos(config.protos));
  await writeNew(join(root, files.types), types);
  await writeNew(join(root, files.handler), handlerTemplate(names));
  await writeNew(join(root, files.denoJson), denoJson);
  await writeNew(join(root, files.gitignore), GITIGNORE);

  console.log(summary(root, names, Object.values(files)));
  return 0;
}

/** Every file init writes, relative to DIR. */
function plannedFiles(names: InitNames) {
  return {
    config: "svc.yaml",
    proto: join("proto", `${names.pkg}.proto`),
    handler: join("handlers", `${names.pkg}.ts`),
    types: join("handlers", "_types.ts"),
    denoJson: "deno.json",
    gitignore: ".gitignore",
  };
}

/** Throws one issue per file in the way (and for a DIR that is a file). */
async function refuseExisting(root: string, files: Record<string, string>): Promise<void> {
  // stat, not lstat, for directories: they may be symlinks to one.
  const rootInfo = await infoOrNull(Deno.stat(root));
  if (rootInfo && !rootInfo.isDirectory) {
    throw new UserInputError("init", [{ file: root, message: "exists and is not a directory" }]);
  }
  if (!rootInfo) return;
  const issues: Issue[] = [];
  for (const sub of ["proto", "handlers"]) {
    const info = await infoOrNull(Deno.stat(join(root, sub)));
    if (info && !info.isDirectory) {
      issues.push({ file: join(root, sub), message: "exists and is not a directory" });
    }
  }
  // deno.jsonc would stand beside the new deno.json, and Deno reads only one of them.
  for (const name of [...Object.values(files), "deno.jsonc"]) {
    // lstat: a dangling symlink is in the way too.
    if (await infoOrNull(Deno.lstat(join(root, name)))) {
      issues.push({
        file: join(root, name),
        message: "already exists; svc init overwrites nothing",
      });
    }
  }
  if (issues.length > 0) {
    throw new UserInputError(
      "init",
      issues,
      "move these files away, or run svc init with a new or empty directory",
    );
  }
}

async function infoOrNull(stat: Promise<Deno.FileInfo>): Promise<Deno.FileInfo | null> {
  try {
    return await stat;
  } catch (error) {
    // NotADirectory: a file stands where a directory of the path should.
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/** Fails rather than overwrite a file that appeared since the check. */
async function writeNew(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { createNew: true });
}

/**
 * The runtime deno.json's imports with relative targets made absolute, so
 * they resolve from the new directory, "svc" pointing at this runtime's
 * mod.ts; and its compilerOptions, so handlers are checked as strictly as
 * the runtime.
 */
async function runtimeImports(): Promise<[Record<string, string>, Record<string, unknown>]> {
  if (RUNTIME_DENO_JSON.protocol !== "file:") {
    throw new Error(
      `svc init needs svc installed from a local checkout; this one runs from ${RUNTIME_MOD.href}`,
    );
  }
  const runtime = JSON.parse(await Deno.readTextFile(fileURLToPath(RUNTIME_DENO_JSON)));
  const imports: Record<string, string> = {};
  for (const [name, target] of Object.entries<string>(runtime.imports ?? {})) {
    imports[name] = target.startsWith(".") ? new URL(target, RUNTIME_DENO_JSON).href : target;
  }
  imports.svc = RUNTIME_MOD.href;
  return [imports, runtime.compilerOptions ?? {}];
}

/** What was written, and what to run next. */
function summary(root: string, names: InitNames, files: string[]): string {
  const shown = relative(Deno.cwd(), root);
  const cd = shown === "" ? null : shown.startsWith("..") ? root : shown;
  const lines = [
    `created service ${names.service} (${names.pkg}.${names.protoService}) in ${root}`,
  ];
  for (const file of files) lines.push(`  wrote ${file}`);
  lines.push(
    "",
    "Next:",
    ...(cd ? [`  cd ${cd.includes(" ") ? JSON.stringify(cd) : cd}`] : []),
    "  svc dev            # serve, reloading on every change to handlers, protos and svc.yaml",
    "  svc run svc.yaml   # serve until Ctrl-C (SIGINT) or SIGTERM",
    "  svc check          # load everything, report problems, serve nothing",
    `  svc types          # after editing proto/${names.pkg}.proto: regenerate handlers/_types.ts`,
  );
  return lines.join("\n");
}
