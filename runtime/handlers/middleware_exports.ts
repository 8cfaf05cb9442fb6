/**
 * What a middleware file may export by default, for both kinds: server
 * middleware (`defineMiddleware()`, incoming calls) and client middleware
 * (`defineClientMiddleware()`, outgoing calls through `ctx.clients`).
 *
 * Both kinds have the same shape, `(next) => (call) => Promise<void>`, so a
 * file of one kind put where the other is expected would load without
 * complaint and then run on the wrong calls, reading fields its calls do not
 * have. Each `define...()` therefore marks its result, and the loader names
 * the mistake instead.
 * @module
 */
import type { Issue } from "../core/errors.ts";
import type { HandlerSource } from "./discover.ts";
import { importIssue } from "./import_error.ts";

/** Marks what `defineMiddleware()` returns. */
export const MIDDLEWARE_DEFINITION: unique symbol = Symbol.for(
  "svc.middleware-definition",
) as never;

/** Marks what `defineClientMiddleware()` returns. */
export const CLIENT_MIDDLEWARE_DEFINITION: unique symbol = Symbol.for(
  "svc.client-middleware-definition",
) as never;

/** One kind of middleware file, as {@link loadMiddlewareExports} checks it. */
export interface MiddlewareKind {
  /** What the files are called in messages: `middleware`, `client middleware`. */
  readonly noun: string;
  /** The function that defines one: `defineMiddleware`. */
  readonly define: string;
  /** The mark its `define` function puts on its result. */
  readonly marker: symbol;
  /** The other kind's mark, and what to say about a file of that kind found here. */
  readonly otherKind: { readonly marker: symbol; readonly message: string };
}

/**
 * Imports each source and collects its interceptors, in order. Accepts a
 * definition of `kind`, a bare function or an array of functions as the
 * default export; anything else, a definition of the other kind included,
 * is one issue naming the file.
 *
 * @example
 * ```ts ignore
 * const issues: Issue[] = [];
 * const interceptors = await loadMiddlewareExports<Interceptor>(sources, issues, SERVER_KIND);
 * ```
 */
export async function loadMiddlewareExports<T>(
  sources: readonly HandlerSource[],
  issues: Issue[],
  kind: MiddlewareKind,
): Promise<T[]> {
  const interceptors: T[] = [];
  for (const source of sources) {
    let exported: unknown;
    try {
      exported = (await source.load()).default;
    } catch (error) {
      issues.push(importIssue(source.file, error));
      continue;
    }
    if (isMarked(exported, kind.otherKind.marker)) {
      issues.push({ file: source.file, where: "export default", message: kind.otherKind.message });
      continue;
    }
    const list: unknown[] = isMarked(exported, kind.marker)
      ? [...(exported as { interceptors: readonly unknown[] }).interceptors]
      : Array.isArray(exported)
      ? exported
      : [exported];
    const bad = list.findIndex((item) => typeof item !== "function");
    if (exported === undefined || bad >= 0) {
      issues.push({
        file: source.file,
        where: "export default",
        message: exported === undefined
          ? `has no default export; export ${kind.define}(...) by default`
          : `is not ${kind.noun} (item ${bad} is ${typeof list[
            bad
          ]}); export ${kind.define}(interceptor, ...)`,
      });
      continue;
    }
    interceptors.push(...(list as T[]));
  }
  return interceptors;
}

function isMarked(value: unknown, marker: symbol): boolean {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[marker] === true;
}
