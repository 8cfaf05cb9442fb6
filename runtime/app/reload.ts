/**
 * Live reload, shared by `svc dev` (on file changes) and `svc run` (on
 * SIGHUP): load and validate the whole new set as `svc check` does; keep
 * serving the last good set when it is bad; otherwise swap the methods under
 * the open listener, or restart the server in-process when a key read only
 * at start-up changed. One log line per reload says what and how long.
 * @module
 */
import { relative } from "node:path";
import { formatIssue, UserInputError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { flushLogs } from "../log/mod.ts";
import { loadApp, type LoadAppOptions, type LoadedApp } from "./load.ts";
import { planReload } from "./reload_plan.ts";
import { type RunningApp, startApp } from "./start.ts";

/** Options for {@link AppReloader}. */
export interface ReloaderOptions {
  /** The config file to load again on each reload. */
  readonly configPath: string;
  /** How to load it: the same as at start-up, with a `moduleVersion` for fresh imports. */
  readonly loadOptions: LoadAppOptions;
  readonly log: Logger;
  /** The logger for a restarted app (its `logging` keys may have changed). Default: `log`. */
  readonly loggerFor?: (app: LoadedApp) => Logger;
  /** Called after every successful reload with the app now served (`svc dev --types`). */
  readonly onServing?: (app: LoadedApp) => Promise<void>;
}

/** What one reload did. */
export type ReloadOutcome = "swapped" | "restarted" | "failed";

/**
 * Owns the serving app from start-up on. Reloads run one at a time; one
 * asked for while another runs is queued once.
 *
 * @example
 * ```ts ignore
 * const reloader = new AppReloader(app, await startApp(app, log), options);
 * Deno.addSignalListener("SIGHUP", () => reloader.reload(["SIGHUP"]));
 * // ...
 * await reloader.shutdown();
 * ```
 */
export class AppReloader {
  #app: LoadedApp;
  #running: RunningApp | null;
  readonly #options: ReloaderOptions;
  #log: Logger;
  #queue: Promise<unknown> = Promise.resolve();
  #pending: Promise<ReloadOutcome> | null = null;
  #closed = false;

  constructor(app: LoadedApp, running: RunningApp, options: ReloaderOptions) {
    this.#app = app;
    this.#running = running;
    this.#options = options;
    this.#log = options.log;
  }

  /** The app being served: the last good set. */
  get app(): LoadedApp {
    return this.#app;
  }

  /** The server, or null if a restart failed to bind (the next reload tries again). */
  get running(): RunningApp | null {
    return this.#running;
  }

  /**
   * Loads everything again and serves it. `why` names what changed (files,
   * or the signal) for the log line. Never rejects.
   */
  reload(why: readonly string[]): Promise<ReloadOutcome> {
    // One queued reload covers every request made while another runs.
    if (this.#pending) return this.#pending;
    const run = this.#queue.then(() => {
      this.#pending = null;
      return this.#closed ? "failed" as const : this.#reloadNow(why);
    });
    this.#pending = run;
    this.#queue = run;
    return run;
  }

  /** Waits for a running reload, then runs the server's graceful shutdown. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await this.#running?.shutdown();
  }

  async #reloadNow(why: readonly string[]): Promise<ReloadOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let next: LoadedApp;
    try {
      next = await loadApp(this.#options.configPath, this.#options.loadOptions);
    } catch (error) {
      printFailure(error);
      this.#log.warn("reload failed; still serving the last good version", {
        changed: why.join(", "),
        ms: elapsed(),
      });
      return "failed";
    }
    // Only news: the same warnings on every save would bury the reload line.
    for (const warning of next.warnings) {
      if (!this.#app.warnings.includes(warning)) this.#log.warn(warning);
    }
    const plan = planReload(this.#app, next);
    const fields = {
      changed: why.join(", "),
      ...(plan.added.length > 0 ? { added: plan.added.join(", ") } : {}),
      ...(plan.removed.length > 0 ? { removed: plan.removed.join(", ") } : {}),
    };
    try {
      if (!plan.restart && this.#running && await this.#running.swap(next)) {
        this.#app = next;
        await this.#options.onServing?.(next);
        this.#log.info("reloaded", { ...fields, ms: elapsed() });
        return "swapped";
      }
      const reason = plan.restart ??
        (this.#running ? "this transport cannot swap methods" : "not serving");
      await this.#restart(next);
      await this.#options.onServing?.(next);
      const address = this.#running!.address;
      this.#log.info("restarted", {
        ...fields,
        reason,
        port: address.port,
        address: `${address.host}:${address.port}`,
        ms: elapsed(),
      });
      return "restarted";
    } catch (error) {
      this.#log.error("reload failed", { changed: why.join(", "), error: errorText(error) });
      return "failed";
    }
  }

  /** Stops the server and starts `next`; if it cannot bind, starts the last good set again. */
  async #restart(next: LoadedApp): Promise<void> {
    const log = this.#options.loggerFor?.(next) ?? this.#log;
    await this.#running?.shutdown();
    this.#running = null;
    try {
      this.#running = await startApp(next, log);
      this.#app = next;
      this.#log = log;
    } catch (error) {
      this.#log.error("restart failed; serving the last good version again", {
        error: errorText(error),
      });
      this.#running = await startApp(this.#app, this.#log);
      throw error;
    }
  }
}

/** The query fresh imports carry (handlers/discover.ts); not the user's business. */
const RELOAD_QUERY = /\?svc-reload=\d+/g;

/** The lines `svc check` prints for the same problems (see cli/main.ts). */
function printFailure(error: unknown): void {
  flushLogs();
  if (error instanceof UserInputError) {
    for (const issue of error.issues) {
      const message = issue.message.replace(RELOAD_QUERY, "");
      console.error(formatIssue({ ...issue, file: displayPath(issue.file), message }));
    }
    if (error.hint) console.error(`\nhint: ${error.hint}`);
    return;
  }
  console.error(`svc: ${errorText(error).replace(RELOAD_QUERY, "")}`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Paths under the working directory read better relative.
function displayPath(path: string): string {
  const short = relative(Deno.cwd(), path);
  return short && !short.startsWith("..") ? short : path;
}
