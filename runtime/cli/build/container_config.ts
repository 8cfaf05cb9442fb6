/**
 * The config as the container image holds it: `/etc/svc/config.yaml`, its
 * protos under `/etc/svc/proto/`, paths rewritten to match.
 *
 * Protos stay files on disk rather than being embedded in the binary: the
 * proto loader and reflection read them with ordinary file APIs, so an image
 * built from any config works the same as `svc run` from the project. Only
 * the .proto files actually loaded are
 * copied (configured ones, their imports, and the protos of `dependencies`),
 * keeping their layout relative to one another, so every import
 * resolves exactly as it did on the build machine.
 * @module
 */
import { dirname, join, relative, sep } from "node:path";
import { parseDocument } from "yaml";
import type { ResolvedConfig } from "../../config/mod.ts";
import { loadProtos } from "../../protos/mod.ts";

/** The config file inside the image (the Dockerfile's ENTRYPOINT names it). */
export const CONTAINER_CONFIG_FILE = "config.yaml";
/** Directory (relative to the config's) the protos are copied to. */
export const CONTAINER_PROTO_DIR = "proto";
/**
 * Handlers directory inside the image: empty, since the handlers are built
 * into the binary, but the config requires `handlers` to be a directory.
 */
export const CONTAINER_HANDLERS_DIR = "handlers";

/** A file to copy into the config directory of the image. */
export interface ContainerCopy {
  /** Absolute path on the build machine. */
  from: string;
  /** Path relative to the image's config directory. */
  to: string;
}

/** What {@link containerConfig} produced. */
export interface ContainerConfig {
  /** The rewritten YAML. */
  yaml: string;
  /** The .proto files to copy. */
  copies: ContainerCopy[];
  /** Directories (relative to the config directory) that must exist, possibly empty. */
  dirs: string[];
}

/**
 * Rewrites the YAML `text` of `config` for the image: `protos.files`,
 * `protos.includePaths` and each `dependencies.<service>.protos` point into
 * `proto/`, `handlers` at an empty
 * `handlers/`, and `middleware` and `clientMiddleware` are emptied (all are
 * built into the binary).
 * Everything else, comments included, is kept; certificate paths are left
 * alone because certificates are mounted at run time, never baked in.
 *
 * @example
 * ```ts ignore
 * const config = await loadConfig("config/svc.yaml");
 * const { yaml, copies } = await containerConfig(config, await Deno.readTextFile(config.file));
 * // yaml: "protos:\n  files: [ proto ]\n..."; copies: [{ from: "/app/proto/helloworld.proto", to: "proto/helloworld.proto" }]
 * ```
 */
export async function containerConfig(
  config: ResolvedConfig,
  text: string,
): Promise<ContainerConfig> {
  const { includePaths } = config.protos;
  const dependencies = Object.entries(config.dependencies ?? {});
  // The served protos, and each dependency's as runtime/app/dependencies.ts loads them.
  const sets = [
    await loadProtos(config.protos),
    ...await Promise.all(
      dependencies.map(([, dependency]) => loadProtos({ files: dependency.protos, includePaths })),
    ),
  ];
  const loaded = [
    ...new Set(sets.flatMap((set) => [...set.sources.values()].map((file) => file.path))),
  ].filter((path): path is string => path !== null && path.startsWith("/"));
  const roots = [
    ...config.protos.files,
    ...includePaths,
    ...dependencies.flatMap(([, dependency]) => dependency.protos),
  ];
  const base = commonDirectory([...roots, ...loaded.map((file) => dirname(file))]);
  const inImage = (path: string) => _posix(join(CONTAINER_PROTO_DIR, relative(base, path)));

  const doc = parseDocument(text);
  doc.setIn(["protos", "files"], doc.createNode(config.protos.files.map(inImage), { flow: true }));
  if (config.protos.includePaths.length || doc.hasIn(["protos", "includePaths"])) {
    doc.setIn(
      ["protos", "includePaths"],
      doc.createNode(config.protos.includePaths.map(inImage), { flow: true }),
    );
  }
  for (const [name, dependency] of dependencies) {
    doc.setIn(
      ["dependencies", name, "protos"],
      doc.createNode(dependency.protos.map(inImage), { flow: true }),
    );
  }
  doc.setIn(["handlers"], CONTAINER_HANDLERS_DIR);
  for (const key of ["middleware", "clientMiddleware"]) {
    if (doc.hasIn([key])) doc.setIn([key], doc.createNode([], { flow: true }));
  }
  const note = ` Rewritten by svc build for the image: protos under ${CONTAINER_PROTO_DIR}/, ` +
    `handlers and middleware\n built into the binary (${CONTAINER_HANDLERS_DIR}/ stays empty).`;
  doc.commentBefore = doc.commentBefore ? `${note}\n\n${doc.commentBefore}` : note;

  const dirs = [
    CONTAINER_HANDLERS_DIR,
    ...roots.filter((root) => _isDirectory(root)).map(inImage),
  ];
  return {
    yaml: doc.toString(),
    copies: loaded.map((from) => ({ from, to: inImage(from) })),
    dirs: [...new Set(dirs)],
  };
}

/**
 * The deepest directory containing every path (a path that is a directory
 * counts as containing itself).
 *
 * @example
 * ```ts
 * commonDirectory(["/a/b/c", "/a/b/d/e"]); // "/a/b"
 * ```
 */
export function commonDirectory(paths: readonly string[]): string {
  if (paths.length === 0) return "/";
  let parts = paths[0].split(sep);
  for (const path of paths.slice(1)) {
    const other = path.split(sep);
    let i = 0;
    while (i < parts.length && i < other.length && parts[i] === other[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || sep;
}

function _isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function _posix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}
