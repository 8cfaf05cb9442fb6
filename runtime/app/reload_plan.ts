/**
 * What a live reload must do to get from one loaded app to the next: swap
 * the methods under the open listener, or restart the server in-process.
 * @module
 */
import type { LoadedApp } from "./load.ts";

/**
 * Config keys a swap covers: they only say where handlers, middleware,
 * client middleware and protos come from, and those are what a swap
 * replaces (client middleware through `clients.setInterceptors`). Every
 * other key is read once at start-up (the listener, admin, limits, ...).
 */
const SWAPPABLE_KEYS: ReadonlySet<string> = new Set([
  "protos",
  "handlers",
  "middleware",
  "clientMiddleware",
]);

/** The outcome of {@link planReload}. */
export interface ReloadPlan {
  /** Why the server must restart in-process; null when a swap does. */
  readonly restart: string | null;
  /** Config keys that changed, as dotted paths (`server.port`). */
  readonly configKeys: readonly string[];
  /** Methods served with a handler now and not before (`/pkg.Service/Method`). */
  readonly added: readonly string[];
  /** Methods served with a handler before and not now. */
  readonly removed: readonly string[];
}

/**
 * Compares `current` with `next`.
 *
 * @example
 * ```ts ignore
 * const plan = planReload(current, next);
 * if (plan.restart) console.log(`restarting: ${plan.restart}`);
 * ```
 */
export function planReload(current: LoadedApp, next: LoadedApp): ReloadPlan {
  const configKeys = changedPaths(current.config, next.config, "");
  const before = servedMethods(current);
  const after = servedMethods(next);
  const added = [...after].filter((m) => !before.has(m));
  const removed = [...before].filter((m) => !after.has(m));
  return { restart: restartReason(current, next, configKeys), configKeys, added, removed };
}

function restartReason(current: LoadedApp, next: LoadedApp, keys: string[]): string | null {
  const listener = keys.filter((k) => k === "server" || k.startsWith("server."));
  if (listener.length > 0) return `${listener.join(", ")} changed: a new listener is needed`;
  const other = keys.filter((k) => !SWAPPABLE_KEYS.has(k.split(".")[0]));
  if (other.length > 0) return `${other.join(", ")} changed: read only at start-up`;
  const registered = (app: LoadedApp) => [...app.handlers.services.keys()].sort().join();
  if (next.config.registry.type === "etcd" && registered(current) !== registered(next)) {
    return "the services registered in etcd changed";
  }
  return null;
}

function servedMethods(app: LoadedApp): Set<string> {
  return new Set(app.handlers.bindings.filter((b) => b.handler).map((b) => b.method.path));
}

/** Dotted paths of the leaves that differ between two plain data trees. */
function changedPaths(a: unknown, b: unknown, path: string): string[] {
  if (Object.is(a, b)) return [];
  const bothObjects = typeof a === "object" && a !== null && typeof b === "object" && b !== null;
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) return [path];
  if (Array.isArray(a)) {
    const same = a.length === (b as unknown[]).length &&
      a.every((item, i) => changedPaths(item, (b as unknown[])[i], "").length === 0);
    return same ? [] : [path];
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].flatMap((key) =>
    changedPaths(left[key], right[key], path ? `${path}.${key}` : key)
  );
}
