/**
 * Finds handler files in a directory.
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** A handler module to load: its path for messages, and how to import it. */
export interface HandlerSource {
  /** Absolute path, used in messages. */
  readonly file: string;
  /** Imports the module (dynamically from disk, or from a build manifest). */
  load(): Promise<Record<string, unknown>>;
}

const HANDLER_FILE = /\.(ts|js|mts|mjs)$/;
const NOT_A_HANDLER = /(^_)|(_test\.\w+$)|(\.test\.\w+$)|(\.d\.ts$)/;

/** True for names `svc` serves: `.ts`/`.js`, not `_helper.ts`, `x_test.ts` or `.d.ts`. */
export function isHandlerFileName(name: string): boolean {
  return HANDLER_FILE.test(name) && !NOT_A_HANDLER.test(name);
}

/**
 * The version of `file` to import: "" imports it as is; another string
 * imports a fresh copy (`?svc-reload=<version>`), since Deno caches a module
 * by URL and never unloads one. Used by live reload (see app/reload.ts).
 */
export type ModuleVersion = (file: string) => Promise<string>;

/**
 * The handler files directly inside `dir` (subdirectories are for helpers),
 * sorted by name so start-up order is stable.
 */
export async function discoverHandlerFiles(
  dir: string,
  version?: ModuleVersion,
): Promise<HandlerSource[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && isHandlerFileName(entry.name)) names.push(entry.name);
  }
  names.sort();
  return names.map((name) => fileSource(join(dir, name), version));
}

/** `_middleware.ts` (or `.js`) in `dir`, if there is one. */
export function findMiddlewareFile(
  dir: string,
  version?: ModuleVersion,
): Promise<HandlerSource | null> {
  return findFirstFile(dir, ["_middleware.ts", "_middleware.js"], version);
}

/** `_client_middleware.ts` (or `.js`) in `dir`, if there is one: middleware for outgoing calls. */
export function findClientMiddlewareFile(
  dir: string,
  version?: ModuleVersion,
): Promise<HandlerSource | null> {
  return findFirstFile(dir, ["_client_middleware.ts", "_client_middleware.js"], version);
}

async function findFirstFile(
  dir: string,
  names: readonly string[],
  version?: ModuleVersion,
): Promise<HandlerSource | null> {
  for (const name of names) {
    const file = join(dir, name);
    const info = await Deno.stat(file).catch(() => null);
    if (info?.isFile) return fileSource(file, version);
  }
  return null;
}

/** A source that imports `file` from disk, at `version` when given. */
export function fileSource(file: string, version?: ModuleVersion): HandlerSource {
  const url = pathToFileURL(file).href;
  if (!version) return { file, load: () => import(url) };
  return {
    file,
    load: async () => {
      const v = await version(file);
      return import(v ? `${url}?svc-reload=${v}` : url);
    },
  };
}
