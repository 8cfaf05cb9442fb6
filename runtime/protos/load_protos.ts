/**
 * `loadProtos()`: configured .proto files in, services with codecs out.
 * @module
 */
import { resolve } from "node:path";
import { type Issue, UserInputError } from "../core/errors.ts";
import { createCodecs } from "./codec.ts";
import { collectProtoFiles } from "./collect_files.ts";
import { describeServices } from "./describe_services.ts";
import { parseProtoFiles } from "./parse_files.ts";
import { resolveReferences } from "./resolve_refs.ts";
import type { ProtoSet } from "./types.ts";

/** What to load. */
export interface LoadProtosOptions {
  /** .proto files, or directories searched recursively for `*.proto`. */
  files: string[];
  /** Extra directories imports are resolved against, after the configured ones. */
  includePaths: string[];
  /**
   * Proto sources compiled into the runtime (health, reflection), loaded as
   * if configured; their `path` reads `(built in) <name>`.
   */
  embedded?: readonly { name: string; source: string }[];
  /** What one message may cost once decoded (estimated); default 64 MiB. */
  maxDecodedMessageBytes?: number;
}

/**
 * Loads the configured protos and everything they import, resolves every
 * type, and compiles a codec per method.
 *
 * Imports resolve to the built-in well-known types (`google/protobuf/*.proto`)
 * first, then against each configured directory, the directory of each
 * configured file, and `includePaths`, in that order. Only services declared
 * in configured files (including files found in configured directories) are
 * described; imported files only contribute types.
 *
 * @throws {UserInputError} `protos`, listing every problem found: missing
 * paths, empty directories, syntax errors, missing imports, unknown types and
 * duplicate definitions.
 *
 * @example
 * ```ts
 * const protos = await loadProtos({ files: ["/app/proto"], includePaths: [] });
 * const method = protos.services.get("helloworld.Greeter")!.methods[0];
 * const bytes = method.encodeResponse({ message: "hi" });
 * ```
 */
export async function loadProtos(options: LoadProtosOptions): Promise<ProtoSet> {
  const includePaths = options.includePaths.map((p) => resolve(p));
  const collected = await collectProtoFiles(options.files, includePaths);
  for (const { name, source } of options.embedded ?? []) {
    collected.files.push({ name, path: `(built in) ${name}`, text: source });
  }
  const searchDirs = [...new Set([...collected.roots, ...includePaths])];
  const parsed = await parseProtoFiles(collected.files, searchDirs);
  const issues: Issue[] = [...collected.issues, ...parsed.issues];
  issues.push(...resolveReferences(parsed.root, parsed.texts, parsed.tainted));
  if (issues.length) throw new UserInputError("protos", issues);

  const { root, sources } = parsed;
  try {
    root.resolveAll();
  } catch (error) {
    throw new UserInputError("protos", [{
      file: collected.files[0]?.path ?? "(protos)",
      message: `cannot resolve types: ${(error as Error).message}`,
    }]);
  }
  const configured = new Set<string>();
  for (const [name, file] of sources) {
    if (file.path !== null && collected.files.some((f) => f.path === file.path)) {
      configured.add(name);
    }
  }
  const pathOf = (name: string) => sources.get(name)?.path ?? name;
  const services = describeServices(
    root,
    configured,
    pathOf,
    createCodecs(options.maxDecodedMessageBytes),
  );
  return Object.freeze({
    services,
    files: collected.files.map((f) => f.path),
    sources,
    root,
  });
}
