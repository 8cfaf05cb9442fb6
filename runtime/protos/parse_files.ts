/**
 * Parses the configured .proto files and everything they import into one
 * protobufjs root, reading files with Deno APIs (protobufjs's own file
 * loading relies on Node's `fs` through `require` and is not used).
 * @module
 */
import { join } from "node:path";
import protobuf from "protobufjs";
import type { Issue } from "../core/errors.ts";
import { addBuiltinFile, isBuiltinFile } from "./builtin.ts";
import type { ConfiguredFile } from "./collect_files.ts";
import { findLine, parseErrorIssue, type SourceText } from "./parse_errors.ts";
import type { ProtoFile } from "./types.ts";

/** The result of {@link parseProtoFiles}. */
export interface ParsedFiles {
  root: protobuf.Root;
  /** Every loaded file by name, in load order. */
  sources: Map<string, ProtoFile>;
  /** Source text by file name (not for built-ins), for locating problems. */
  texts: Map<string, SourceText>;
  /** Names of files that failed to parse, lack an import, or import such a file. */
  tainted: Set<string>;
  issues: Issue[];
}

interface _Pending {
  name: string;
  /** Absolute path, or null for a built-in. */
  path: string | null;
  /** Source of an embedded file. */
  text?: string;
}

const PARSE_OPTIONS: protobuf.IParseOptions = { keepCase: false, alternateCommentMode: true };

/**
 * Parses `files` and, transitively, their imports. An import resolves to a
 * built-in well-known type first, then to the first of `searchDirs` holding
 * it. Problems are collected, not thrown.
 *
 * @example
 * ```ts
 * const parsed = await parseProtoFiles([{ path: "/p/a.proto", name: "a.proto" }], ["/p"]);
 * ```
 */
export async function parseProtoFiles(
  files: readonly ConfiguredFile[],
  searchDirs: readonly string[],
): Promise<ParsedFiles> {
  const root = new protobuf.Root();
  const sources = new Map<string, ProtoFile>();
  const texts = new Map<string, SourceText>();
  const issues: Issue[] = [];
  const broken = new Set<string>();
  const deps = new Map<string, string[]>();
  const nameByPath = new Map<string, string>();
  const queue: _Pending[] = [];

  const enqueue = async (name: string, path: string | null, text?: string): Promise<string> => {
    if (text !== undefined) {
      queue.push({ name, path, text });
      return name;
    }
    if (path === null) {
      if (!sources.has(name) && !queue.some((p) => p.name === name)) queue.push({ name, path });
      return name;
    }
    const real = await Deno.realPath(path).catch(() => path);
    const known = nameByPath.get(real);
    if (known !== undefined) return known;
    const unique = sources.has(name) || queue.some((p) => p.name === name) ? path : name;
    nameByPath.set(real, unique);
    queue.push({ name: unique, path });
    return unique;
  };

  for (const file of files) await enqueue(file.name, file.path, file.text);
  const pathOf = (name: string) => sources.get(name)?.path ?? name;

  for (let i = 0; i < queue.length; i++) {
    const { name, path, text: embedded } = queue[i];
    root.files.push(name);
    if (path === null) {
      await addBuiltinFile(root, name);
      sources.set(name, _builtinInfo(name));
      continue;
    }
    let text: string;
    try {
      text = embedded ?? await Deno.readTextFile(path);
    } catch (error) {
      issues.push({ file: path, message: `cannot read file: ${(error as Error).message}` });
      broken.add(name);
      continue;
    }
    const source: SourceText = { path, name, text };
    texts.set(name, source);
    const parsed = _parse(source, root);
    const imports = [...(parsed.result?.imports ?? []), ...(parsed.result?.weakImports ?? [])];
    sources.set(name, {
      name,
      path,
      package: parsed.result?.package ?? "",
      syntax: _syntaxOf(text),
      imports,
    });
    if (parsed.error !== undefined) {
      issues.push(parseErrorIssue(parsed.error, source, root, pathOf));
      broken.add(name);
    }
    const weak = new Set(parsed.result?.weakImports ?? []);
    const resolved: string[] = [];
    for (const imported of imports) {
      if (isBuiltinFile(imported)) {
        resolved.push(await enqueue(imported, null));
        continue;
      }
      const found = await _search(imported, searchDirs);
      if (found) resolved.push(await enqueue(imported, found));
      else if (!weak.has(imported)) {
        issues.push(_missingImport(source, imported, searchDirs));
        broken.add(name);
      }
    }
    deps.set(name, resolved);
  }
  return { root, sources, texts, tainted: _taint(broken, deps), issues };
}

function _parse(
  source: SourceText,
  root: protobuf.Root,
): { result?: protobuf.IParserResult; error?: unknown } {
  const parse = protobuf.parse as typeof protobuf.parse & { filename: string | null };
  parse.filename = source.name;
  try {
    return { result: protobuf.parse(source.text, root, PARSE_OPTIONS) };
  } catch (error) {
    // The parse stopped part-way; keep what the imports regex can still see.
    return { result: _importsOnly(source.text), error };
  } finally {
    parse.filename = null;
  }
}

function _importsOnly(text: string): protobuf.IParserResult {
  const imports: string[] = [];
  const weakImports: string[] = [];
  for (const m of text.matchAll(/^\s*import\s+(weak\s+|public\s+)?"([^"]+)"\s*;/gm)) {
    (m[1]?.trim() === "weak" ? weakImports : imports).push(m[2]);
  }
  const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(text)?.[1];
  return { package: pkg, imports, weakImports } as protobuf.IParserResult;
}

async function _search(name: string, dirs: readonly string[]): Promise<string | null> {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    const info = await Deno.stat(candidate).catch(() => null);
    if (info?.isFile) return candidate;
  }
  return null;
}

function _missingImport(source: SourceText, imported: string, dirs: readonly string[]): Issue {
  const quoted = imported.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const searched = dirs.length ? dirs.join(", ") : "(no directories)";
  return {
    file: source.path,
    line: findLine(source.text, new RegExp(`import\\s+(weak\\s+|public\\s+)?"${quoted}"`, "g")),
    message: `import "${imported}" not found; searched ${searched}. ` +
      `Add the directory that holds it to protos.includePaths`,
  };
}

function _syntaxOf(text: string): ProtoFile["syntax"] {
  const m = /^\s*(syntax|edition)\s*=\s*["']([^"']+)["']/m.exec(
    text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, ""),
  );
  if (!m) return "proto2";
  if (m[1] === "edition") return "editions";
  return m[2] === "proto3" ? "proto3" : "proto2";
}

function _builtinInfo(name: string): ProtoFile {
  const syntax = name === "google/protobuf/descriptor.proto" ? "proto2" : "proto3";
  return { name, path: null, package: "google.protobuf", syntax, imports: [] };
}

/** Broken files plus every file that imports one, directly or not. */
function _taint(broken: Set<string>, deps: Map<string, string[]>): Set<string> {
  const tainted = new Set(broken);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, list] of deps) {
      if (!tainted.has(name) && list.some((dep) => tainted.has(dep))) {
        tainted.add(name);
        grew = true;
      }
    }
  }
  return tainted;
}
