/**
 * Client middleware: interceptors for the calls handlers make through
 * `ctx.clients`, from `handlers/_client_middleware.ts` and from files listed
 * under `clientMiddleware` in the config. The same shape as server
 * middleware, for all four call kinds; runtime/client/ runs them.
 * @module
 */
import type { ClientInterceptor } from "../core/clients.ts";
import type { Issue } from "../core/errors.ts";
import type { HandlerSource } from "./discover.ts";
import {
  CLIENT_MIDDLEWARE_DEFINITION,
  loadMiddlewareExports,
  MIDDLEWARE_DEFINITION,
  type MiddlewareKind,
} from "./middleware_exports.ts";

/** What `defineClientMiddleware()` returns. */
export interface ClientMiddlewareDefinition {
  readonly [CLIENT_MIDDLEWARE_DEFINITION]: true;
  readonly interceptors: readonly ClientInterceptor[];
}

/** What a client middleware file should look like; shown after client middleware issues. */
export const CLIENT_MIDDLEWARE_FILE_HINT = `a client middleware file looks like this:

  import { defineClientMiddleware } from "svc";
  export default defineClientMiddleware((next) => async function forwardToken(call) {
    const token = call.parent?.metadata?.get("authorization");
    if (typeof token === "string") call.metadata.set("authorization", token);
    await next(call);
  });`;

const CLIENT_MIDDLEWARE: MiddlewareKind = {
  noun: "client middleware",
  define: "defineClientMiddleware",
  marker: CLIENT_MIDDLEWARE_DEFINITION,
  otherKind: {
    marker: MIDDLEWARE_DEFINITION,
    message: "is server middleware (defineMiddleware), which runs on incoming calls; " +
      "export defineClientMiddleware(...) here, or move it to _middleware.ts or " +
      "middleware in the config",
  },
};

/**
 * Declares the interceptors a client middleware file adds to every call
 * handlers make through `ctx.clients`, in the order given: the first is
 * outermost. They run once per logical call, outside retries, before the
 * request metadata is sent.
 *
 * @example
 * ```ts
 * import { defineClientMiddleware } from "svc";
 * export default defineClientMiddleware((next) => async function forwardToken(call) {
 *   const token = call.parent?.metadata?.get("authorization");
 *   if (typeof token === "string") call.metadata.set("authorization", token);
 *   await next(call);
 * });
 * ```
 */
export function defineClientMiddleware(
  ...interceptors: ClientInterceptor[]
): ClientMiddlewareDefinition {
  return Object.freeze({
    [CLIENT_MIDDLEWARE_DEFINITION]: true as const,
    interceptors: [...interceptors],
  });
}

/**
 * Imports each client middleware source and collects its interceptors, in
 * order. Accepts a `defineClientMiddleware()` result, a bare interceptor or
 * an array of them as the default export; anything else (server middleware
 * included) is an issue.
 */
export function loadClientMiddleware(
  sources: readonly HandlerSource[],
  issues: Issue[],
): Promise<ClientInterceptor[]> {
  return loadMiddlewareExports<ClientInterceptor>(sources, issues, CLIENT_MIDDLEWARE);
}
