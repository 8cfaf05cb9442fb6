/**
 * Which version of a handler or middleware file to import on a live reload.
 * Deno caches a module by URL and never unloads it, so a changed file is
 * imported under a new URL (`?svc-reload=N`) and every version stays in
 * memory: only files whose content changed get one, and content seen before
 * gets its old version back (an undo costs nothing).
 * @module
 */
import type { ModuleVersion } from "../handlers/mod.ts";

/**
 * A {@link ModuleVersion} keyed by file content: "" for the content a file
 * had when first seen, then "1", "2", ... for each new content across all
 * files.
 *
 * @example
 * ```ts ignore
 * const version = createModuleVersions();
 * const app = await loadApp("config/svc.yaml", { moduleVersion: version });
 * // ... a handler file changes ...
 * const next = await loadApp("config/svc.yaml", { moduleVersion: version });
 * ```
 */
export function createModuleVersions(): ModuleVersion {
  const versions = new Map<string, Map<string, string>>();
  let last = 0;
  return async (file) => {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch {
      // The import fails too, with the message the user should see.
      return "";
    }
    const hash = await contentHash(bytes);
    let known = versions.get(file);
    if (!known) {
      versions.set(file, known = new Map([[hash, ""]]));
      return "";
    }
    let version = known.get(hash);
    if (version === undefined) known.set(hash, version = String(++last));
    return version;
  };
}

async function contentHash(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
