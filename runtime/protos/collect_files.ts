/**
 * Expands the configured `protos.files` entries (files or directories) into
 * the list of .proto files to load and the directories imports resolve
 * against.
 * @module
 */
import { dirname, join, relative, resolve, sep as SEPARATOR } from "node:path";
import type { Issue } from "../core/errors.ts";
import { isBuiltinFile } from "./builtin.ts";

/** A .proto file found from the configuration. */
export interface ConfiguredFile {
  /** Absolute path. */
  path: string;
  /** Name as imports would spell it (relative to its directory entry or include path). */
  name: string;
  /** The source, for files embedded in the runtime rather than read from disk. */
  text?: string;
}

/** What {@link collectProtoFiles} found. */
export interface CollectedFiles {
  /** In configuration order; files inside a directory sorted by path. */
  files: ConfiguredFile[];
  /** Import roots: each directory entry, then the directory of each file entry. */
  roots: string[];
  issues: Issue[];
}

/**
 * Walks `entries`, each a .proto file or a directory searched recursively for
 * `*.proto`. A missing path, a directory with no .proto file, or an include
 * path that is not a directory, is an issue.
 * Files under a directory that shadow a built-in well-known type
 * (`google/protobuf/timestamp.proto`, ...) are skipped: the built-in wins.
 *
 * @example
 * ```ts
 * const { files, roots, issues } = await collectProtoFiles(["/app/proto"], []);
 * ```
 */
export async function collectProtoFiles(
  entries: readonly string[],
  includePaths: readonly string[],
): Promise<CollectedFiles> {
  const files: ConfiguredFile[] = [];
  const dirRoots: string[] = [];
  const fileRoots: string[] = [];
  const issues: Issue[] = [];
  const seen = new Set<string>();
  const add = (path: string, name: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    files.push({ path, name });
  };

  for (const entry of entries) {
    const path = resolve(entry);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      issues.push({ file: path, message: _statProblem(error) });
      continue;
    }
    if (info.isDirectory) {
      dirRoots.push(path);
      const found = (await _walk(path)).filter((file) => !isBuiltinFile(_relName(path, file)));
      if (found.length === 0) {
        issues.push({
          file: path,
          message: "no .proto files found in this directory (searched recursively)",
        });
      }
      for (const file of found) add(file, _relName(path, file));
    } else {
      fileRoots.push(dirname(path));
      add(path, _nameFor(path, [...dirRoots, ...includePaths.map((p) => resolve(p))]));
    }
  }
  for (const include of includePaths) {
    const info = await Deno.stat(include).catch(() => null);
    if (!info?.isDirectory) {
      issues.push({
        file: include,
        message: info
          ? "include path is not a directory; check protos.includePaths in the config"
          : "include path does not exist; check protos.includePaths in the config",
      });
    }
  }
  return { files, roots: _unique([...dirRoots, ...fileRoots]), issues };
}

function _statProblem(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) {
    return "configured proto path does not exist; check protos.files in the config";
  }
  return `cannot read configured proto path: ${(error as Error).message}`;
}

async function _walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    let isDirectory = entry.isDirectory;
    let isFile = entry.isFile;
    if (entry.isSymlink) {
      const info = await Deno.stat(path).catch(() => null);
      isDirectory = info?.isDirectory ?? false;
      isFile = info?.isFile ?? false;
    }
    if (isDirectory) out.push(...await _walk(path));
    else if (isFile && entry.name.endsWith(".proto")) out.push(path);
  }
  return out;
}

/** The name a file entry gets: relative to the first root containing it, else its base name. */
function _nameFor(path: string, roots: readonly string[]): string {
  for (const root of roots) {
    const rel = relative(root, path);
    if (rel && !rel.startsWith("..") && !rel.startsWith(SEPARATOR)) return _slashes(rel);
  }
  return _slashes(relative(dirname(path), path));
}

function _relName(root: string, path: string): string {
  return _slashes(relative(root, path));
}

function _slashes(path: string): string {
  return SEPARATOR === "/" ? path : path.split(SEPARATOR).join("/");
}

function _unique(list: string[]): string[] {
  return [...new Set(list)];
}
