/**
 * `svc run`: serve until SIGTERM or SIGINT, then shut down within bounds.
 * @module
 */
import { createLogger } from "../log/mod.ts";
import type { Logger } from "../log/types.ts";
import { startServer } from "../server/server.ts";
import type { LoadedApp } from "./load.ts";

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/** Serves `app` until a signal; resolves with the process exit code. */
export async function runApp(app: LoadedApp, log: Logger = appLogger(app)): Promise<number> {
  for (const warning of app.warnings) log.warn(warning);
  keepServingOnStrayRejections(log);

  const server = await startServer({ config: app.config, handlers: app.handlers, log });
  log.info("serving", {
    service: app.config.service.name,
    version: app.config.service.version,
    address: `${server.address.host}:${server.address.port}`,
    port: server.address.port,
    transport: app.config.server.transport,
    tls: app.config.server.tls !== null,
    services: [...app.handlers.services.keys()],
  });

  const signal = await nextSignal();
  log.info("shutdown started", { signal, inFlight: server.inFlight });
  const forced = nextSignal().then((again) => {
    log.warn("second signal; exiting now", { signal: again });
    Deno.exit(130);
  });
  await server.shutdown(app.config.shutdown.gracePeriod);
  log.info("shutdown complete");
  void forced;
  return 0;
}

/** A logger configured from `app.config.logging`. */
export function appLogger(app: LoadedApp): Logger {
  const { level, format } = app.config.logging;
  return createLogger({ level, format });
}

function nextSignal(): Promise<string> {
  return new Promise((resolve) => {
    const listeners = SIGNALS.map((name) => {
      const listener = () => {
        SIGNALS.forEach((n, i) => Deno.removeSignalListener(n, listeners[i]));
        resolve(name);
      };
      Deno.addSignalListener(name, listener);
      return listener;
    });
  });
}

// A handler's forgotten promise must not take the whole service down.
function keepServingOnStrayRejections(log: Logger): void {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("unhandled promise rejection", { error: event.reason });
  });
}
