/**
 * Finding `denort`, the slim Deno runtime `deno compile` copies into every
 * binary. Deno downloads it from dl.deno.land into its cache on first use;
 * offline, `DENORT_BIN` points `deno compile` at a local copy instead.
 * @module
 */
import { join } from "node:path";

/** The variable `deno compile` reads for a local denort binary. */
export const DENORT_ENV = "DENORT_BIN";

/** Where a usable denort was found. */
export interface DenortLocation {
  /** A denort binary (`DENORT_BIN`) or the cached release zip. */
  path: string;
  source: "DENORT_BIN" | "cache";
}

/**
 * Deno's cache directory (`DENO_DIR`), as `deno info` reports it: `$DENO_DIR`,
 * else the platform cache directory plus `deno`.
 *
 * @example
 * ```ts
 * denoDir({ HOME: "/root" }, "linux"); // "/root/.cache/deno"
 * ```
 */
export function denoDir(
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
  os: typeof Deno.build.os = Deno.build.os,
): string {
  if (env.DENO_DIR) return env.DENO_DIR;
  if (os === "windows") return join(env.LOCALAPPDATA ?? "", "deno");
  if (os === "darwin") return join(env.HOME ?? "", "Library", "Caches", "deno");
  return join(env.XDG_CACHE_HOME || join(env.HOME ?? "", ".cache"), "deno");
}

/**
 * Where `deno compile` caches the denort release zip for this Deno version
 * and target: `<DENO_DIR>/dl/release/v<version>/denort-<target>.zip`.
 *
 * @example
 * ```ts
 * denortCachePath({ DENO_DIR: "/cache" }, "2.8.3", "x86_64-unknown-linux-gnu");
 * // "/cache/dl/release/v2.8.3/denort-x86_64-unknown-linux-gnu.zip"
 * ```
 */
export function denortCachePath(
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
  version: string = Deno.version.deno,
  target: string = Deno.build.target,
): string {
  return join(denoDir(env), "dl", "release", `v${version}`, `denort-${target}.zip`);
}

/**
 * The denort `deno compile` would use without a download: `DENORT_BIN` if it
 * names an existing file, else the cached release zip if present, else null.
 *
 * @example
 * ```ts
 * const denort = findDenort();
 * if (!denort) console.log("deno compile will download denort");
 * ```
 */
export function findDenort(
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
): DenortLocation | null {
  const explicit = env[DENORT_ENV];
  if (explicit) return _isFile(explicit) ? { path: explicit, source: "DENORT_BIN" } : null;
  const cached = denortCachePath(env);
  return _isFile(cached) ? { path: cached, source: "cache" } : null;
}

/**
 * The one-line message for a denort that cannot be had, naming the offline
 * escape hatch. `reason` is the deepest cause deno reported.
 *
 * @example
 * ```ts
 * denortMissingMessage("dns error");
 * ```
 */
export function denortMissingMessage(reason: string): string {
  const zip = `denort-${Deno.build.target}.zip`;
  return `deno compile could not get denort, the runtime every binary is built on ` +
    `(${reason}); to build offline, set ${DENORT_ENV} to a denort binary of Deno ` +
    `${Deno.version.deno} (unzipped from ${zip} of that release)`;
}

function _isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
