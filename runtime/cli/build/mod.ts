/**
 * `svc build`: the handler manifest, the generated entry module, the
 * `deno compile` invocation with the binary's permissions, and the root
 * filesystem of the scratch container image.
 *
 * @example
 * ```ts ignore
 * import { buildBinary } from "./mod.ts";
 * const { output } = await buildBinary({ config: "config/svc.yaml", output: "dist/svc" });
 * ```
 * @module
 */
export {
  buildBinary,
  BuildError,
  type BuildOptions,
  type BuildResult,
  compileArgs,
  findDenoConfig,
} from "./compile.ts";
export { DENORT_ENV, denortCachePath, type DenortLocation, findDenort } from "./denort.ts";
export { ENTRY_FILE, MANIFEST_FILE, renderEntry, writeEntry } from "./entry.ts";
export {
  type ManifestFiles,
  manifestFiles,
  renderManifest,
  writeManifest,
  type WrittenManifest,
} from "./manifest.ts";
export { CONTAINER_CONFIG_DIR, readPaths, runtimePermissionFlags } from "./permissions.ts";
export { assembleRoot, CONTAINER_BINARY, CONTAINER_UID, type RootOptions } from "./rootfs.ts";
export { CONTAINER_CONFIG_FILE, containerConfig } from "./container_config.ts";
