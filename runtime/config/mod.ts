/**
 * Config: load the YAML file, expand `${VAR}`, apply `SVC_*` env overrides,
 * validate every key (reporting all problems at once) and return a frozen
 * {@link ResolvedConfig}.
 *
 * @example
 * ```ts ignore
 * import { loadConfig } from "./mod.ts";
 * const config = await loadConfig("svc.yaml");
 * console.log(config.server.port, config.shutdown.gracePeriod);
 * ```
 * @module
 */

export { loadConfig, type LoadConfigOptions } from "./load.ts";
// Not resolveConfig (resolve.ts): it imports the yaml package, which start-up
// loads only for configs the fast path cannot parse (resolve_core.ts).
export { renderConfigReference } from "./reference.ts";
export { envName } from "./entries.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export type * from "./types.ts";
