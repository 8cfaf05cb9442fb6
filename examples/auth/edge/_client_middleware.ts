/**
 * Client middleware: a file named `_client_middleware.ts` in the handlers
 * directory wraps every call handlers make through `ctx.clients`, the way
 * `_middleware.ts` wraps the calls they answer.
 *
 * The greeter wants the same bearer token the edge was called with, so each
 * outgoing call carries the incoming call's `authorization`. Without this
 * file the greeter answers every edge call with UNAUTHENTICATED.
 * @module
 */
import { defineClientMiddleware } from "svc";

export default defineClientMiddleware((next) =>
  async function forwardBearerToken(call) {
    // `parent` is the handler's ctx; a call made outside one (none here) has no token to pass.
    const token = call.parent?.metadata?.get("authorization");
    if (typeof token === "string") call.metadata.set("authorization", token);
    await next(call);
  }
);
