/**
 * `svc run`: serve until SIGTERM or SIGINT, then shut down within bounds.
 * SIGHUP reloads handlers, protos and config (app/reload.ts).
 * @module
 */
import { createLogger } from "../log/mod.ts";
import type { Logger } from "../core/logger.ts";
import type { LoadAppOptions, LoadedApp } from "./load.ts";
import { AppReloader } from "./reload.ts";
import { SHUTDOWN_SLACK_MS } from "./shutdown.ts";
import { startApp } from "./start.ts";
import { startupMark } from "../util/startup_timings.ts";
import { keepServingOnStrayRejections, onSignals } from "./signals.ts";

/**
 * The watchdog's margin beyond the sequence's own bound (drainDelay +
 * gracePeriod + SHUTDOWN_SLACK_MS): it fires only if a step broke its bound.
 */
export const WATCHDOG_MARGIN_MS = 1_000;

/** Where {@link runApp} reloads from, and who else drives reloads. */
export interface RunOptions {
  /** The config file and load options `app` came from; SIGHUP loads them again. */
  readonly reloadFrom?: { readonly configPath: string; readonly loadOptions: LoadAppOptions };
  /** Called after every successful reload with the app now served. */
  readonly onServing?: (app: LoadedApp) => Promise<void>;
  /**
   * Called once serving, with the reloader (`svc dev` watches files);
   * the function it returns is called first thing at shutdown.
   */
  readonly onStarted?: (reloader: AppReloader) => () => void;
  /** The build manifest module of a built binary, which workers import their handlers from. */
  readonly manifest?: string;
}

/** Serves `app` until a signal; resolves with the process exit code. */
export async function runApp(
  app: LoadedApp,
  log: Logger = appLogger(app),
  options: RunOptions = {},
): Promise<number> {
  // `svc dev` (onStarted) reloads one event loop in place; it serves on one.
  const workers = options.onStarted ? 1 : workerCount(app.config.server.workers);
  if (workers > 1) {
    // Loaded only then: one event loop needs no supervisor.
    const { runWorkers } = await import("./workers/run_workers.ts");
    return await runWorkers(app, log, {
      count: workers,
      configPath: options.reloadFrom?.configPath ?? app.config.file,
      manifest: options.manifest ?? null,
      watchdogMarginMs: WATCHDOG_MARGIN_MS,
    });
  }
  for (const warning of app.warnings) log.warn(warning);
  keepServingOnStrayRejections(log);

  // Listen before "serving" is logged (whoever reads that line may signal
  // at once) and for the whole run (a second signal must never meet the
  // default action).
  const firstSignal = onSignals((again) => {
    log.warn("second signal; exiting now", { signal: again });
    Deno.exit(130);
  });
  const running = await startApp(app, log);
  startupMark("serving");
  log.info("serving", {
    service: app.config.service.name,
    version: app.config.service.version,
    address: `${running.address.host}:${running.address.port}`,
    port: running.address.port,
    transport: app.config.server.transport,
    tls: app.config.server.tls !== null,
    adminPort: running.adminPort,
    services: running.services,
  });

  const reloader = new AppReloader(app, running, {
    configPath: options.reloadFrom?.configPath ?? app.config.file,
    loadOptions: options.reloadFrom?.loadOptions ?? {},
    log,
    loggerFor: appLogger,
    onServing: options.onServing,
  });
  const reloadOnHangup = () => reloader.reload(["SIGHUP"]);
  if (options.reloadFrom) Deno.addSignalListener("SIGHUP", reloadOnHangup);
  const stopWatching = options.onStarted?.(reloader);

  const signal = await firstSignal;
  stopWatching?.();
  if (options.reloadFrom) Deno.removeSignalListener("SIGHUP", reloadOnHangup);
  log.info("shutdown started", { signal });
  // Every step is bounded already; this is the bound on the bounds.
  const { drainDelay, gracePeriod } = reloader.app.config.shutdown;
  const watchdog = setTimeout(() => {
    log.error("shutdown took too long; exiting now");
    Deno.exit(1);
  }, drainDelay + gracePeriod + SHUTDOWN_SLACK_MS + WATCHDOG_MARGIN_MS);
  Deno.unrefTimer(watchdog);
  await reloader.shutdown();
  return 0;
}

/** A logger configured from `app.config.logging`. */
export function appLogger(app: LoadedApp): Logger {
  const { level, format } = app.config.logging;
  return createLogger({ level, format });
}

/** `server.workers` as a count: 0 is one per core this process may run on (affinity and cgroup quota). */
export function workerCount(configured: number): number {
  return configured === 0 ? Math.max(1, navigator.hardwareConcurrency) : configured;
}
