/**
 * Loads the svc CLI for main.ts, from a bundle when one is fresh.
 *
 * Why: loading runtime/cli/main.ts from source means about 190 TypeScript
 * modules plus yaml and protobufjs through Deno's CommonJS loader, ~150 ms
 * of a ~230 ms cold start (bench/issue20_measurements.md). The same code as
 * a few bundled ES modules loads in ~50 ms (bench/cold_start.ts measures it).
 *
 * How: every command looks for a bundle built from the files as they are now
 * (manifest.ts). On a miss it builds one (build.ts, esbuild, ~1 s once per
 * change of the runtime's files or of Deno) and runs from it. When it cannot
 * (no esbuild, an unwritable cache, another process building right now) it
 * runs from source. That path is ~90 ms slower than before bundles existed:
 * Deno loads a large graph reached through `import()` more slowly than the
 * same graph imported statically; which is also why every command, not only
 * `svc run`, uses the bundle. Handlers and middleware always load from
 * source, and `svc` stays outside the bundle, so both share one copy of the
 * public API. `SVC_BUNDLE=0` turns bundles off; `SVC_BUNDLE_DIR` moves them
 * out of the runtime's dist/ (e.g. when that is read-only).
 *
 * This file imports nothing of the CLI: it must stay cheap to load.
 * @module
 */
import { startupMark } from "../../util/startup_timings.ts";
import { freshManifest } from "./manifest.ts";

/** The CLI's `main` (runtime/cli/main.ts). */
export type CliMain = (args: string[]) => Promise<number>;

/** Set to 0 to always run from source. */
export const BUNDLE_ENV = "SVC_BUNDLE";
/** Where bundles are kept; default dist/.svc_bundle under the runtime's root (git ignores dist/). */
export const BUNDLE_DIR_ENV = "SVC_BUNDLE_DIR";

// Not string literals: Deno reads and prepares every module a literal
// `import()` names when the program starts, which would load the source
// graph even when the bundle is used.
const SOURCE_CLI = new URL("../main.ts", import.meta.url).href;
const BUILDER = new URL("./build.ts", import.meta.url).href;
const ROOT_URL = new URL("../../../", import.meta.url);

/** A lock older than this was left by a process that died while building. */
const STALE_LOCK_MS = 120_000;
/** After a failed build, start from source this long before trying again. */
const RETRY_FAILED_MS = 600_000;

/**
 * The CLI's `main`: from a fresh bundle, building one if needed and
 * possible; from source otherwise.
 */
export async function loadCli(): Promise<CliMain> {
  const place = bundlePlace();
  if (place) {
    const main = await fromBundle(place) ?? await buildThenLoad(place);
    if (main) return main;
  }
  return (await import(SOURCE_CLI)).main as CliMain;
}

interface Place {
  root: string;
  cacheDir: string;
}

function bundlePlace(): Place | null {
  if (ROOT_URL.protocol !== "file:") return null;
  const root = decodeURIComponent(ROOT_URL.pathname).replace(/\/$/, "");
  // Asked, not requested: at a terminal, Deno would stop to prompt for a
  // permission the user did not give; then the source it is.
  if (!granted({ name: "env" }) || !granted({ name: "read", path: root })) return null;
  if (Deno.env.get(BUNDLE_ENV) === "0") return null;
  const dir = Deno.env.get(BUNDLE_DIR_ENV);
  if (dir && !granted({ name: "read", path: dir })) return null;
  return { root, cacheDir: dir ? `${dir}/${hash(root)}` : `${root}/dist/.svc_bundle` };
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

async function fromBundle(place: Place): Promise<CliMain | null> {
  const manifest = freshManifest(place.cacheDir, place.root);
  startupMark("checked");
  if (!manifest) return null;
  const entry = `${place.cacheDir}/${manifest.dir}/${manifest.entry}`;
  try {
    const { main } = await import(new URL(`file://${entry}`).href);
    // Says which way the CLI came (bench/cold_start.ts ignores it; tests read it).
    startupMark("bundled");
    return main as CliMain;
  } catch (error) {
    // Removed under us, or unreadable: the source is still there.
    debug(`cannot load ${entry}: ${(error as Error).message}`);
    return null;
  }
}

async function buildThenLoad(place: Place): Promise<CliMain | null> {
  const lock = `${place.cacheDir}.lock`;
  const failed = `${place.cacheDir}.failed`;
  if (!mayBuild(place) || recentlyFailed(failed) || !takeLock(place.cacheDir, lock)) return null;
  try {
    const { buildBundle } = await import(BUILDER);
    await buildBundle({ root: place.root, cacheDir: place.cacheDir });
  } catch (error) {
    debug(`cannot build a bundle: ${(error as Error).message}`);
    try {
      Deno.writeTextFileSync(failed, (error as Error).message);
    } catch {
      // the next start tries again
    }
    return null;
  } finally {
    try {
      Deno.removeSync(lock);
    } catch {
      // already gone
    }
  }
  return await fromBundle(place);
}

/**
 * Building writes the cache and runs esbuild. Without those permissions
 * already granted, Deno would stop to ask at a terminal: run from source.
 */
function mayBuild(place: Place): boolean {
  return granted({ name: "write", path: place.cacheDir }) && granted({ name: "run" }) &&
    granted({ name: "env" }) && granted({ name: "read", path: place.root }) &&
    granted({ name: "sys" });
}

/** A build failed lately: not every start should pay ~1 s to fail again. */
function recentlyFailed(marker: string): boolean {
  try {
    return Date.now() - (Deno.statSync(marker).mtime?.getTime() ?? 0) < RETRY_FAILED_MS;
  } catch {
    return false;
  }
}

/** One builder at a time; the others run from source meanwhile. */
function takeLock(cacheDir: string, lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      Deno.mkdirSync(cacheDir, { recursive: true });
      Deno.openSync(lock, { write: true, createNew: true }).close();
      return true;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) return false;
      try {
        const age = Date.now() - (Deno.statSync(lock).mtime?.getTime() ?? 0);
        if (age < STALE_LOCK_MS) return false;
        Deno.removeSync(lock);
      } catch {
        return false;
      }
    }
  }
  return false;
}

function debug(message: string): void {
  try {
    if (Deno.env.get("SVC_DEBUG")) console.error(`svc: bundle: ${message}`);
  } catch {
    // no environment access
  }
}

/** FNV-1a of the root's path: one cache directory per checkout. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}
