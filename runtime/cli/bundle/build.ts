/**
 * Builds the start-up bundle of the svc CLI (see launch.ts for why and when):
 * runtime/cli/main.ts and everything it imports, as a few ES modules, with
 * code splitting so a dynamic import stays a separate, lazily loaded chunk.
 *
 * What stays outside, imported from where it is at run time:
 * - `svc`'s public closure (runtime/mod.ts and what it imports), so a handler
 *   importing `svc` and the bundled runtime share one RpcError, one Metadata,
 *   one defineService brand;
 * - runtime/util/startup_timings.ts, which main.ts has already loaded;
 * - `node:` built-ins, and npm packages only reached through a dynamic import
 *   (grpc-js, etcd3, prom-client, OpenTelemetry), as their `npm:` specifiers:
 *   they are loaded only when used, by Deno, as without the bundle.
 *
 * npm packages on the start path (yaml, protobufjs) are inlined: they are
 * CommonJS, and loading them through Deno's `require` costs more than parsing
 * them as part of one ES module. `import.meta.url` in a bundled file is
 * replaced by the file's own URL, so `new URL("./x.ts", import.meta.url)`
 * still points next to the source.
 * @module
 */
import * as esbuild from "esbuild";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BUNDLE_FORMAT, type BundleManifest, MANIFEST_FILE } from "./manifest.ts";

/** What {@link buildBundle} needs. */
export interface BuildBundleOptions {
  /** The runtime's root: the directory holding deno.json and runtime/. */
  root: string;
  /** Where bundles are kept; each build gets its own subdirectory. */
  cacheDir: string;
}

const ENTRY = "runtime/cli/main.ts";
const SVC_MODULE = "runtime/mod.ts";
/** Loaded by main.ts before the bundle; one copy keeps one "enabled" reading. */
const KEPT_OUTSIDE = ["runtime/util/startup_timings.ts"];
/** The launcher's own files: a change to how bundles are made must invalidate them. */
const BUNDLER_FILES = ["runtime/cli/bundle/build.ts", "runtime/cli/bundle/manifest.ts"];

/**
 * Builds a bundle into a new subdirectory of `cacheDir` and then points the
 * manifest at it (written to a temporary name and renamed, so a reader sees
 * the old manifest or the new one, never half of one).
 */
export async function buildBundle(options: BuildBundleOptions): Promise<BundleManifest> {
  const root = resolve(options.root);
  const imports = await readImportMap(root);
  try {
    const outside = new Set([
      ...await localClosure(root, SVC_MODULE, imports),
      ...KEPT_OUTSIDE.map((f) => join(root, f)),
    ]);
    const inline = await startPathPackages(root, imports, outside);
    const id = `${Date.now().toString(36)}-${Deno.pid}`;
    const outDir = join(options.cacheDir, id);
    const result = await esbuild.build({
      ...COMMON,
      entryPoints: { main: join(root, ENTRY) },
      outdir: outDir,
      write: false,
      plugins: [resolver(root, imports, { outside, inline })],
    });
    await Deno.mkdir(outDir, { recursive: true });
    for (const file of result.outputFiles) {
      await Deno.writeTextFile(file.path, escapeNonAscii(hideDynamicImports(file.text)));
    }
    const local = Object.keys(result.metafile.inputs)
      .filter((p) => !p.startsWith(`${CJS_FACADE}:`))
      .map((p) => resolve(p))
      .filter((p) => !p.includes("/node_modules/"));
    const inputs = [
      ...new Set([
        ...local,
        ...outside,
        ...BUNDLER_FILES.map((f) => join(root, f)),
        join(root, "deno.json"),
        join(root, "deno.lock"),
      ]),
    ].sort().map((file) => {
      const info = Deno.statSync(file);
      return { file: relative(root, file), mtime: info.mtime?.getTime() ?? 0, size: info.size };
    });
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      deno: Deno.version.deno,
      root,
      dir: id,
      entry: "main.mjs",
      inputs,
    };
    const temp = join(options.cacheDir, `${MANIFEST_FILE}.${id}.tmp`);
    await Deno.writeTextFile(temp, JSON.stringify(manifest));
    await Deno.rename(temp, join(options.cacheDir, MANIFEST_FILE));
    await removeOldBuilds(options.cacheDir, id);
    return manifest;
  } finally {
    await esbuild.stop();
  }
}

const COMMON = {
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "esnext",
  // Not keepNames: it wraps every function expression in __name(), which
  // runs Object.defineProperty each time a closure is made, ~0.8 µs apiece
  // (measured), and the call path makes closures per call: unary-small went
  // from ~6 to ~9 µs of CPU per call. Renamed clashing identifiers only
  // change stack traces; svc's error classes set their `name` explicitly.
  keepNames: false,
  metafile: true,
  // No source map: Deno reads a linked one at every start (~12 ms measured).
  // Stack traces name the chunk; esbuild's "// runtime/..." comments in it
  // name each source file, and SVC_BUNDLE=0 runs from source.
  logLevel: "silent",
  outExtension: { ".js": ".mjs" },
  chunkNames: "[name]-[hash]",
  // Inlined CommonJS code may `require` a built-in.
  banner: {
    js: 'import { createRequire as __svcRequire } from "node:module";\n' +
      "const require = __svcRequire(import.meta.url);",
  },
} satisfies esbuild.BuildOptions;

/**
 * `import("./chunk.mjs")` → `import(new URL("./chunk.mjs", import.meta.url).href)`,
 * and the same for `npm:` and `node:` targets. Deno reads and prepares, at
 * start, every module a literal `import()` names, with its npm packages
 * (grpc-js, etcd3, prom-client, OpenTelemetry): ~35 ms for chunks that are
 * loaded only when a feature is on. A computed specifier is loaded when the
 * import runs. Only esbuild's own chunk imports and external packages match.
 */
export function hideDynamicImports(code: string): string {
  return code.replace(
    /\bimport\("((?:\.\/[\w.-]+\.mjs)|(?:npm:[^"\s]+)|(?:node:[\w/]+))"\)/g,
    (_, target) => `import(new URL(${JSON.stringify(target)}, import.meta.url).href)`,
  );
}

/**
 * Every non-ASCII character as a `\uXXXX` escape. esbuild escapes them in
 * strings, template literals, regular expressions and names, not in the
 * comments it keeps; and V8 holds a script's source as a two-byte string
 * when one character of it needs more than a byte. The chunk with the call
 * path (its comments hold `≤`, `→`, `§`) took 352 KiB of heap for 176 KB of
 * text. In a comment the escape is plain text; anywhere else it means the
 * same character.
 */
export function escapeNonAscii(code: string): string {
  return code.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

type ImportMap = Record<string, string>;

async function readImportMap(root: string): Promise<ImportMap> {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  return config.imports ?? {};
}

/** A bare specifier through deno.json's imports: "yaml" → "npm:yaml@2.9.1". */
function mapped(specifier: string, imports: ImportMap): string | null {
  if (imports[specifier]) return imports[specifier];
  let best = "";
  for (const key of Object.keys(imports)) {
    if (key.endsWith("/") && specifier.startsWith(key) && key.length > best.length) best = key;
  }
  return best ? imports[best] + specifier.slice(best.length) : null;
}

/** The package an `npm:` specifier names: "npm:/@grpc/grpc-js@1.14.7/x" → "@grpc/grpc-js". */
function packageOf(npmSpecifier: string): string {
  const parts = npmSpecifier.replace(/^npm:\/?/, "").split("/");
  const name = npmSpecifier.replace(/^npm:\/?/, "").startsWith("@")
    ? `${parts[0]}/${parts[1]}`
    : parts[0];
  return name.replace(/(.)@.*$/, "$1");
}

interface Placement {
  /** Local files left outside the bundle. */
  outside: ReadonlySet<string>;
  /** npm packages inlined; the others stay external. */
  inline: ReadonlySet<string>;
}

/** The namespace of the one-module facades of inlined CommonJS packages. */
const CJS_FACADE = "svc-cjs-facade";

/** Marks a lookup handed back to esbuild's own resolution (no recursion). */
const INNER = Symbol("svc-inner");

function resolver(root: string, imports: ImportMap, placement: Placement): esbuild.Plugin {
  return {
    name: "svc-resolver",
    setup(build) {
      build.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, external: true }));
      build.onResolve({ filter: /.*/ }, (a) => {
        // Entry points, and the lookups below handed back to esbuild.
        if (a.kind === "entry-point" || a.pluginData === INNER) return undefined;
        if (a.path.startsWith("npm:")) return { path: a.path, external: true };
        if (a.path.startsWith("file:")) return local(fileURLToPath(a.path));
        if (a.path.startsWith(".") || isAbsolute(a.path)) {
          // Inside an inlined npm package: esbuild's own node_modules resolution.
          if (a.importer.includes("/node_modules/")) return undefined;
          return local(resolve(a.resolveDir, a.path));
        }
        if (a.importer.includes("/node_modules/")) return undefined;
        const target = mapped(a.path, imports);
        if (target === null) return undefined;
        if (target.startsWith("./") || target.startsWith("../")) {
          return local(resolve(root, target));
        }
        if (target.startsWith("npm:") && placement.inline.has(packageOf(target))) {
          // One ES module per inlined CommonJS package (below), not one
          // esbuild interop copy of its exports per importing file.
          if (a.namespace !== CJS_FACADE && a.path === packageOf(target)) {
            return { path: a.path, namespace: CJS_FACADE };
          }
          // esbuild finds it in the node_modules directory deno.json asks for.
          return build.resolve(a.path, { kind: a.kind, resolveDir: root, pluginData: INNER })
            .then((r) => r.errors.length ? { path: target, external: true } : r);
        }
        return { path: target, external: true };
      });
      // `import x from "protobufjs"` in each of ~17 files made esbuild copy the
      // package's exports onto a fresh namespace object 17 times at start
      // (__toESM); through this facade it happens once.
      build.onLoad({ filter: /.*/, namespace: CJS_FACADE }, (a) => ({
        contents: `export * from ${JSON.stringify(a.path)};\n` +
          `export { default } from ${JSON.stringify(a.path)};\n`,
        resolveDir: root,
        loader: "js",
      }));
      build.onLoad({ filter: /\.ts$/ }, async (a) => {
        if (a.path.includes("/node_modules/")) return undefined;
        const text = await Deno.readTextFile(a.path);
        const url = JSON.stringify(pathToFileURL(a.path).href);
        return { contents: text.replaceAll("import.meta.url", url), loader: "ts" };
      });
    },
  };
  function local(path: string): esbuild.OnResolveResult {
    return placement.outside.has(path)
      ? { path: pathToFileURL(path).href, external: true }
      : { path };
  }
}

/** Local files `entry` loads at run time (esbuild's view: type-only imports are dropped). */
async function localClosure(root: string, entry: string, imports: ImportMap): Promise<string[]> {
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [join(root, entry)],
    write: false,
    splitting: false,
    outdir: "/nonexistent",
    plugins: [resolver(root, imports, { outside: new Set(), inline: new Set() })],
  });
  return Object.keys(result.metafile.inputs).map((p) => resolve(p));
}

/** npm packages imported statically from local files the entry loads statically. */
async function startPathPackages(
  root: string,
  imports: ImportMap,
  outside: ReadonlySet<string>,
): Promise<Set<string>> {
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [join(root, ENTRY)],
    write: false,
    outdir: "/nonexistent",
    plugins: [resolver(root, imports, { outside, inline: new Set() })],
  });
  const inputs = result.metafile.inputs;
  const byPath = new Map(Object.entries(inputs).map(([p, v]) => [resolve(p), v]));
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [join(root, ENTRY)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const edge of byPath.get(file)?.imports ?? []) {
      if (edge.kind !== "import-statement") continue;
      if (edge.external) {
        if (edge.path.startsWith("npm:")) packages.add(packageOf(edge.path));
      } else queue.push(resolve(edge.path));
    }
  }
  return packages;
}

/**
 * Removes build directories other than `keep` that are over a day old. Not
 * sooner: a process started from an older build still imports its lazy
 * chunks (metrics exposition, web dispatch) when first needed.
 */
async function removeOldBuilds(cacheDir: string, keep: string): Promise<void> {
  const dayAgo = Date.now() - 86_400_000;
  for await (const entry of Deno.readDir(cacheDir)) {
    if (!entry.isDirectory || entry.name === keep) continue;
    const path = join(cacheDir, entry.name);
    const info = await Deno.stat(path).catch(() => null);
    if (info?.mtime && info.mtime.getTime() < dayAgo) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
}
