/**
 * User middleware: interceptors from `handlers/_middleware.ts` and from
 * files listed under `middleware` in the config.
 * @module
 */
import type { Issue } from "../core/errors.ts";
import type { Interceptor } from "../core/interceptor.ts";
import type { HandlerSource } from "./discover.ts";
import { importIssue } from "./import_error.ts";

const MIDDLEWARE_DEFINITION: unique symbol = Symbol.for("svc.middleware-definition") as never;

/** What `defineMiddleware()` returns. */
export interface MiddlewareDefinition {
  readonly [MIDDLEWARE_DEFINITION]: true;
  readonly interceptors: readonly Interceptor[];
}

/** What a middleware file should look like; shown after middleware issues. */
export const MIDDLEWARE_FILE_HINT = `a middleware file looks like this:

  import { defineMiddleware, RpcError, Status } from "svc";
  export default defineMiddleware((next) => async function requireToken(call) {
    if (!call.metadata.get("authorization")) {
      throw new RpcError(Status.UNAUTHENTICATED, "missing bearer token");
    }
    await next(call);
  });`;

/**
 * Declares the interceptors a middleware file adds, run in the order
 * given, after the built-ins and before the handler.
 *
 * @example
 * ```ts
 * import { defineMiddleware } from "svc";
 * export default defineMiddleware((next) => async function timing(call) {
 *   const started = Date.now();
 *   try {
 *     await next(call);
 *   } finally {
 *     call.log.debug("timing", { ms: Date.now() - started });
 *   }
 * });
 * ```
 */
export function defineMiddleware(...interceptors: Interceptor[]): MiddlewareDefinition {
  return Object.freeze({ [MIDDLEWARE_DEFINITION]: true as const, interceptors: [...interceptors] });
}

/**
 * Imports each middleware source and collects its interceptors, in order.
 * Accepts a `defineMiddleware()` result, a bare interceptor or an array of
 * them as the default export; anything else is an issue.
 */
export async function loadMiddleware(
  sources: readonly HandlerSource[],
  issues: Issue[],
): Promise<Interceptor[]> {
  const interceptors: Interceptor[] = [];
  for (const source of sources) {
    let exported: unknown;
    try {
      exported = (await source.load()).default;
    } catch (error) {
      issues.push(importIssue(source.file, error));
      continue;
    }
    const list = isMiddlewareDefinition(exported)
      ? exported.interceptors
      : Array.isArray(exported)
      ? exported
      : [exported];
    const bad = list.findIndex((item) => typeof item !== "function");
    if (exported === undefined || bad >= 0) {
      issues.push({
        file: source.file,
        where: "export default",
        message: exported === undefined
          ? "has no default export; export defineMiddleware(...) by default"
          : `is not middleware (item ${bad} is ${typeof list[
            bad
          ]}); export defineMiddleware(interceptor, ...)`,
      });
      continue;
    }
    interceptors.push(...(list as Interceptor[]));
  }
  return interceptors;
}

function isMiddlewareDefinition(value: unknown): value is MiddlewareDefinition {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[MIDDLEWARE_DEFINITION] === true;
}
