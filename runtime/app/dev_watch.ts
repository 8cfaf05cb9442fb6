/**
 * The file watch behind `svc dev`: the handlers directory, the (client)
 * middleware files, the protos and the config; bursts of events (an editor's save is
 * several) coalesce into one reload.
 * @module
 */
import { basename, dirname, relative, sep } from "node:path";
import type { Logger } from "../core/logger.ts";
import { isHandlerFileName } from "../handlers/mod.ts";
import type { LoadedApp } from "./load.ts";
import type { AppReloader } from "./reload.ts";

/** Quiet time after the last event before reloading. */
export const DEBOUNCE_MS = 150;

/** `_middleware.ts` and `_client_middleware.ts`: not handler files, yet sources a reload loads. */
const MIDDLEWARE_FILE = /^_(client_)?middleware\.(ts|js)$/;

/** What to watch for one loaded app. */
interface Targets {
  /** Watched with their subdirectories: the handlers directory, proto directories. */
  readonly trees: string[];
  /** Watched one level deep, for the single files in `files`. */
  readonly dirs: string[];
  /** Single files that matter: the config, middleware files, proto files named directly. */
  readonly files: Set<string>;
}

/**
 * Reloads `reloader` when a source of its app changes, until the returned
 * function is called.
 *
 * @example
 * ```ts ignore
 * const stop = watchSources(reloader, log);
 * // ... on shutdown:
 * stop();
 * ```
 */
export function watchSources(reloader: AppReloader, log: Logger): () => void {
  let watchers: Deno.FsWatcher[] = [];
  let watched = "";
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const changed = new Set<string>();
  const helpers = new Set<string>();
  let targets = targetsOf(reloader.app);

  const fire = async () => {
    timer = undefined;
    if (helpers.size > 0) {
      log.warn(
        "a file handlers import changed; Deno does not load an imported module again: " +
          "restart svc dev to pick it up",
        { changed: [...helpers].map(display).join(", ") },
      );
      helpers.clear();
    }
    if (changed.size === 0) return;
    const why = [...changed].map(display);
    changed.clear();
    await reloader.reload(why);
    try {
      if (!stopped) retarget();
    } catch (error) {
      log.warn("cannot watch the new sources; reload with SIGHUP", { error: String(error) });
    }
  };

  const onEvent = (event: Deno.FsEvent) => {
    if (event.kind === "access") return;
    for (const path of event.paths) {
      const kind = classify(path, targets, reloader.app.config.handlers);
      if (kind === "source") changed.add(path);
      else if (kind === "helper") helpers.add(path);
      else continue;
      clearTimeout(timer);
      timer = setTimeout(fire, DEBOUNCE_MS);
    }
  };

  const retarget = () => {
    targets = targetsOf(reloader.app);
    const key = JSON.stringify([targets.trees, targets.dirs]);
    if (key === watched) return;
    watched = key;
    for (const watcher of watchers) watcher.close();
    watchers = [];
    for (const [paths, recursive] of [[targets.trees, true], [targets.dirs, false]] as const) {
      const existing = paths.filter(exists);
      if (existing.length === 0) continue;
      const watcher = Deno.watchFs(existing, { recursive });
      watchers.push(watcher);
      pump(watcher, onEvent, () => stopped, log);
    }
  };

  retarget();
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}

async function pump(
  watcher: Deno.FsWatcher,
  onEvent: (event: Deno.FsEvent) => void,
  stopped: () => boolean,
  log: Logger,
): Promise<void> {
  try {
    for await (const event of watcher) onEvent(event);
  } catch (error) {
    if (!stopped()) log.warn("file watch failed; reload with SIGHUP", { error: String(error) });
  }
}

function targetsOf(app: LoadedApp): Targets {
  const { config } = app;
  const trees = new Set([config.handlers]);
  const files = new Set([config.file, ...config.middleware, ...config.clientMiddleware]);
  for (const entry of config.protos.files) {
    if (isDirectory(entry)) trees.add(entry);
    else files.add(entry);
  }
  const dirs = new Set([...files].map(dirname).filter((dir) => !insideAny(dir, trees)));
  return { trees: [...trees].sort(), dirs: [...dirs].sort(), files };
}

/** "source": reload; "helper": a module handlers import changed; null: not ours. */
function classify(path: string, targets: Targets, handlersDir: string): "source" | "helper" | null {
  const name = basename(path);
  if (isEditorScratch(name)) return null;
  if (targets.files.has(path)) return "source";
  if (name.endsWith(".proto") && insideAny(path, targets.trees)) return "source";
  if (!isInside(path, handlersDir)) return null;
  // Types are erased at run time; `svc dev --types` writes this one itself.
  if (name === "_types.ts" || name.endsWith(".d.ts")) return null;
  const direct = dirname(path) === handlersDir;
  if (direct && (isHandlerFileName(name) || MIDDLEWARE_FILE.test(name))) return "source";
  return /\.(ts|js|mts|mjs|json)$/.test(name) ? "helper" : null;
}

// Vim's swap files and its 4913 probe, Emacs's lock and autosave files, backups.
function isEditorScratch(name: string): boolean {
  return name.startsWith(".") || name.startsWith("#") || name.endsWith("~") ||
    /\.(swp|swx|tmp|bak)$/.test(name) || name === "4913";
}

function insideAny(path: string, dirs: Iterable<string>): boolean {
  for (const dir of dirs) if (isInside(path, dir)) return true;
  return false;
}

function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

// Paths under the working directory read better relative.
function display(path: string): string {
  const short = relative(Deno.cwd(), path);
  return short && !short.startsWith("..") ? short : path;
}
