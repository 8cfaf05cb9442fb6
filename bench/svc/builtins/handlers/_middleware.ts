/**
 * A trivial API-key check that every benchmark call passes: it reads the
 * request metadata, as real auth middleware does.
 * @module
 */
import { defineMiddleware, RpcError, Status } from "svc";

const denied = new RpcError(Status.UNAUTHENTICATED, "x-api-key is missing");

export default defineMiddleware((next) =>
  async function requireApiKey(call) {
    if (call.service === "bench.Echo" && !call.metadata.has("x-api-key")) throw denied;
    await next(call);
  }
);
