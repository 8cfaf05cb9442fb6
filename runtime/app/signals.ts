/**
 * The process-wide hooks `svc run` installs, alone or as the supervisor of
 * workers: the stop signals, and the net under handlers' forgotten promises.
 * @module
 */
import type { Logger } from "../core/logger.ts";

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/** Resolves with the first SIGTERM/SIGINT; later ones go to `onAgain`. */
export function onSignals(onAgain: (signal: string) => void): Promise<string> {
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
export function keepServingOnStrayRejections(log: Logger): void {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("unhandled promise rejection", { error: event.reason });
  });
}
