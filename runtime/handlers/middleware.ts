/**
 * User middleware: interceptors from `handlers/_middleware.ts` and from
 * files listed under `middleware` in the config.
 * @module
 */
import type { Issue } from "../core/errors.ts";
import type { Interceptor } from "../core/interceptor.ts";
import type { HandlerSource } from "./discover.ts";
import {
  CLIENT_MIDDLEWARE_DEFINITION,
  loadMiddlewareExports,
  MIDDLEWARE_DEFINITION,
  type MiddlewareKind,
} from "./middleware_exports.ts";

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

const SERVER_MIDDLEWARE: MiddlewareKind = {
  noun: "middleware",
  define: "defineMiddleware",
  marker: MIDDLEWARE_DEFINITION,
  otherKind: {
    marker: CLIENT_MIDDLEWARE_DEFINITION,
    message: "is client middleware (defineClientMiddleware), which runs on outgoing calls; " +
      "export defineMiddleware(...) here, or move it to _client_middleware.ts or " +
      "clientMiddleware in the config",
  },
};

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
 * them as the default export; anything else (client middleware included)
 * is an issue.
 */
export function loadMiddleware(
  sources: readonly HandlerSource[],
  issues: Issue[],
): Promise<Interceptor[]> {
  return loadMiddlewareExports<Interceptor>(sources, issues, SERVER_MIDDLEWARE);
}
