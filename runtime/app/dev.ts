/**
 * `svc dev`: `svc run` with development defaults, reloading on every change
 * to handler files, middleware, protos or the config (app/dev_watch.ts,
 * app/reload.ts).
 * @module
 */
import { join, relative } from "node:path";
import type { Logger } from "../core/logger.ts";
import { generateTypes } from "../protos/mod.ts";
import { loadDependencyProtos } from "./dependencies.ts";
import { watchSources } from "./dev_watch.ts";
import { loadApp, type LoadAppOptions, type LoadedApp } from "./load.ts";
import { createModuleVersions } from "./module_versions.ts";
import { appLogger, runApp } from "./run.ts";

/**
 * Development defaults, as `SVC_*` overrides: they beat the config file,
 * and the process's own `SVC_*` variables beat them.
 */
export const DEV_ENV: Readonly<Record<string, string>> = {
  SVC_LOGGING_FORMAT: "pretty",
  SVC_SHUTDOWN_DRAIN_DELAY: "0s",
  SVC_SHUTDOWN_GRACE_PERIOD: "1s",
};

/** Options for {@link devApp}. */
export interface DevOptions {
  /** Rewrite `<handlers>/_types.ts` (as `svc types`) at start and whenever the protos change. */
  readonly types?: boolean;
  /** The environment. Default: the process's. */
  readonly env?: Record<string, string>;
}

/**
 * Serves `configPath` until SIGINT/SIGTERM, reloading on changes. A bad
 * set at start-up throws UserInputError like `svc run`; later ones are
 * printed and the last good set keeps serving.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await devApp("config/svc.yaml", { types: true }));
 * ```
 */
export async function devApp(configPath: string, options: DevOptions = {}): Promise<number> {
  const env = { ...DEV_ENV, ...(options.env ?? Deno.env.toObject()) };
  const loadOptions: LoadAppOptions = { env, moduleVersion: createModuleVersions() };
  const app = await loadApp(configPath, loadOptions);
  const log = appLogger(app);
  const writeTypes = options.types ? typesWriter(log) : undefined;
  await writeTypes?.(app);
  return await runApp(app, log, {
    reloadFrom: { configPath, loadOptions },
    onServing: writeTypes,
    onStarted: (reloader) => watchSources(reloader, log),
  });
}

/** Writes `_types.ts` when its text would change (an unchanged file is not touched). */
function typesWriter(log: Logger): (app: LoadedApp) => Promise<void> {
  return async (app) => {
    const file = join(app.config.handlers, "_types.ts");
    const text = generateTypes(app.protos, await loadDependencyProtos(app.config));
    const old = await Deno.readTextFile(file).catch(() => null);
    if (old === text) return;
    await Deno.writeTextFile(file, text);
    log.info("wrote types", { file: relative(Deno.cwd(), file) || file });
  };
}
