/**
 * The start-up bundle's manifest: which build is current, and the files it
 * was built from, so a change to any of them makes it stale. Shared by
 * launch.ts (reads it on every start, so it imports nothing) and build.ts.
 * @module
 */

/** Bumped when the layout of a bundle or of this manifest changes. */
export const BUNDLE_FORMAT = 1;
/** The manifest's file name in the cache directory. */
export const MANIFEST_FILE = "current.json";

/** One file a bundle was built from, as it was then. */
export interface BundleInput {
  /** Relative to the runtime root. */
  file: string;
  /** Modification time, ms since 1970. */
  mtime: number;
  size: number;
}

/** What build.ts writes and launch.ts checks. */
export interface BundleManifest {
  format: number;
  /** The Deno version that built it: a new Deno gets a new bundle. */
  deno: string;
  /** The runtime root it was built for. */
  root: string;
  /** The build's subdirectory of the cache directory. */
  dir: string;
  /** The entry chunk's file name in `dir`. */
  entry: string;
  inputs: BundleInput[];
}

/**
 * The manifest in `cacheDir` when it describes a bundle of `root` built by this
 * Deno from files that have not changed since; null otherwise. Costs one stat
 * per input (about 200 for svc, a few ms).
 *
 * @example
 * ```ts
 * import { freshManifest } from "./manifest.ts";
 * freshManifest("/nonexistent", "/work/app"); // null
 * ```
 */
export function freshManifest(cacheDir: string, root: string): BundleManifest | null {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(Deno.readTextFileSync(`${cacheDir}/${MANIFEST_FILE}`));
  } catch {
    return null;
  }
  if (
    manifest.format !== BUNDLE_FORMAT || manifest.deno !== Deno.version.deno ||
    manifest.root !== root || !Array.isArray(manifest.inputs)
  ) {
    return null;
  }
  for (const input of manifest.inputs) {
    try {
      const info = Deno.statSync(`${root}/${input.file}`);
      if (info.size !== input.size || (info.mtime?.getTime() ?? 0) !== input.mtime) return null;
    } catch {
      return null;
    }
  }
  return manifest;
}
