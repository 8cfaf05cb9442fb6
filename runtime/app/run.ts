/**
 * `svc run`: serve until SIGTERM or SIGINT, then shut down within bounds.
 * @module
 */
import { createLogger } from "../log/mod.ts";
import type { Logger } from "../core/logger.ts";
import type { LoadedApp } from "./load.ts";
import { SHUTDOWN_SLACK_MS } from "./shutdown.ts";
import { startApp } from "./start.ts";

const SIGNALS = ["SIGTERM", "SIGINT"] as const;
/**
 * The watchdog's margin beyond the sequence's own bound (drainDelay +
 * gracePeriod + SHUTDOWN_SLACK_MS): it fires only if a step broke its bound.
 */
export const WATCHDOG_MARGIN_MS = 1_000;

/** Serves `app` until a signal; resolves with the process exit code. */
export async function runApp(app: LoadedApp, log: Logger = appLogger(app)): Promise<number> {
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

  const signal = await firstSignal;
  log.info("shutdown started", { signal });
  // Every step is bounded already; this is the bound on the bounds.
  const { drainDelay, gracePeriod } = app.config.shutdown;
  const watchdog = setTimeout(() => {
    log.error("shutdown took too long; exiting now");
    Deno.exit(1);
  }, drainDelay + gracePeriod + SHUTDOWN_SLACK_MS + WATCHDOG_MARGIN_MS);
  Deno.unrefTimer(watchdog);
  await running.shutdown();
  return 0;
}

/** A logger configured from `app.config.logging`. */
export function appLogger(app: LoadedApp): Logger {
  const { level, format } = app.config.logging;
  return createLogger({ level, format });
}

/** Resolves with the first SIGTERM/SIGINT; later ones go to `onAgain`. */
function onSignals(onAgain: (signal: string) => void): Promise<string> {
  return new Promise((resolve) => {
    let seen = 0;
    for (const name of SIGNALS) {
      Deno.addSignalListener(name, () => {
        if (++seen === 1) resolve(name);
        else onAgain(name);
      });
    }
  });
}

// A handler's forgotten promise must not take the whole service down.
function keepServingOnStrayRejections(log: Logger): void {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("unhandled promise rejection", { error: event.reason });
  });
}
