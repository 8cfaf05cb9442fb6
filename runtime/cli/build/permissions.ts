/**
 * The Deno permissions a built `svc` binary runs with. `deno compile` bakes
 * them in, so they are chosen once, here, each with the reason it is needed.
 *
 * Measured on Deno 2.8.3 by serving the demo under `deno run` with these
 * flags (tests/build_test.ts and tests/scratch_test.ts do it on every run):
 * - `--allow-net`: the gRPC and admin listeners and etcd; ports and hosts
 *   come from config and `SVC_*` variables at run time, so no host list.
 * - `--allow-env`: `${VAR}` expansion and `SVC_*` overrides read the whole
 *   environment (`Deno.env.toObject()`), so no variable list.
 * - `--allow-sys=networkInterfaces`: the registry derives the address it
 *   publishes from the interfaces when `registry.advertise` and `POD_IP`
 *   are unset.
 * - `--allow-read=<paths>`: the config, protos (loaded at start and re-read
 *   by reflection; those of `dependencies` too), the handlers directory
 *   (checked to exist), certificates, and `/etc/svc` (the container
 *   layout). Loading modules needs no grant. npm packages that read their
 *   own files (etcd3 loads its .proto files with node:fs) need none in a
 *   binary either: it may always read its embedded npm packages
 *   (denoland/deno#19281). Under `deno run` that needs `node_modules`
 *   granted; the tests add it and nothing else.
 * - `--no-prompt`: a missing permission fails with a message instead of
 *   waiting on a terminal prompt.
 *
 * Not granted: write, run, ffi, and `/proc`. Deno 2.8.3 reads `/proc/*`
 * only with `--allow-all` ("Requires all access"), so the binary's metrics
 * lack `process_open_fds`, `process_max_fds`, `process_virtual_memory_bytes`
 * and `process_heap_bytes`, and `process_start_time_seconds` comes from
 * Deno's time origin. Build with `allowAll: true` to trade the sandbox for
 * those metrics.
 * @module
 */
import { dirname, resolve } from "node:path";
import type { ResolvedConfig } from "../../config/mod.ts";

/** Where the container image keeps config and protos (see the Dockerfile). */
export const CONTAINER_CONFIG_DIR = "/etc/svc";

/** Options for {@link runtimePermissionFlags}. */
export interface PermissionOptions {
  /** More paths the binary may read, e.g. where certificates are mounted. */
  allowRead?: readonly string[];
  /** `--allow-all` instead of the narrow set (for the /proc process metrics). */
  allowAll?: boolean;
}

/**
 * The paths a binary built from `config` may read: `/etc/svc`, the config
 * file's directory, and every path the config names (protos, include paths,
 * handlers, middleware, client middleware, dependency protos, TLS, etcd and dependency
 * certificate files), absolute and de-duplicated, in that order. Build-host
 * paths are kept so the binary also runs from the project it was built in.
 *
 * @example
 * ```ts ignore
 * readPaths(await loadConfig("config/svc.yaml"));
 * // ["/etc/svc", "/app/config", "/app/proto", "/app/handlers"]
 * ```
 */
export function readPaths(config: ResolvedConfig, extra: readonly string[] = []): string[] {
  const { server, protos, registry } = config;
  const paths = [
    CONTAINER_CONFIG_DIR,
    dirname(config.file),
    ...protos.files,
    ...protos.includePaths,
    config.handlers,
    ...config.middleware,
    ...config.clientMiddleware,
    ...(server.tls ? [server.tls.cert, server.tls.key, server.tls.ca] : []),
    ...(registry.tls ? [registry.tls.ca, registry.tls.cert, registry.tls.key] : []),
    ...Object.values(config.dependencies ?? {}).flatMap((dependency) => [
      ...dependency.protos,
      ...(dependency.tls ? [dependency.tls.ca, dependency.tls.cert, dependency.tls.key] : []),
    ]),
    ...extra,
  ].filter((p): p is string => typeof p === "string" && p !== "").map((p) => resolve(p));
  // A path inside another listed directory adds nothing.
  const unique = [...new Set(paths)];
  return unique.filter((p) => !unique.some((other) => other !== p && p.startsWith(`${other}/`)));
}

/**
 * The permission flags for `deno compile` (and for `deno run` of the
 * generated entry, which is how they are verified).
 *
 * @example
 * ```ts ignore
 * runtimePermissionFlags(config);
 * // ["--allow-net", "--allow-env", "--allow-sys=networkInterfaces",
 * //  "--allow-read=/etc/svc,/app/config,/app/proto,/app/handlers", "--no-prompt"]
 * ```
 */
export function runtimePermissionFlags(
  config: ResolvedConfig,
  options: PermissionOptions = {},
): string[] {
  if (options.allowAll) return ["--allow-all"];
  return [
    "--allow-net",
    "--allow-env",
    "--allow-sys=networkInterfaces",
    `--allow-read=${readPaths(config, options.allowRead).map(_escapeComma).join(",")}`,
    "--no-prompt",
  ];
}

// Deno splits permission lists on commas; a literal comma is written twice.
function _escapeComma(path: string): string {
  return path.replaceAll(",", ",,");
}
