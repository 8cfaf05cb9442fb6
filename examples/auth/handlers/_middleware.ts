/**
 * Bearer-token authentication for every call, as middleware: a file named
 * `_middleware.ts` in the handlers directory runs after the built-ins
 * (metrics, access log, rate limit, deadline) and before each handler.
 *
 * Tokens come from `AUTH_TOKENS` (comma-separated); a call must send
 * `authorization: Bearer <token>`. Health and reflection stay open so
 * probes and grpcurl's listing keep working.
 * @module
 */
import { defineMiddleware, RpcError, Status } from "svc";

const OPEN_SERVICES = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

const tokens = new Set(
  (Deno.env.get("AUTH_TOKENS") ?? "").split(",").map((t) => t.trim()).filter(Boolean),
);
if (tokens.size === 0) {
  // Failing closed: with no tokens configured, nothing but health is served.
  console.error("examples/auth: AUTH_TOKENS is empty; every call will be refused");
}

const missing = new RpcError(
  Status.UNAUTHENTICATED,
  'missing "authorization: Bearer <token>" metadata',
);
const invalid = new RpcError(Status.UNAUTHENTICATED, "invalid bearer token");

export default defineMiddleware((next) =>
  async function requireBearerToken(call) {
    if (!OPEN_SERVICES.has(call.service)) {
      const header = call.metadata.get("authorization");
      if (typeof header !== "string" || !header.startsWith("Bearer ")) throw missing;
      if (!tokens.has(header.slice("Bearer ".length).trim())) throw invalid;
    }
    await next(call);
  }
);
