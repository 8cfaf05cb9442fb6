/**
 * Interceptors: one shape for all four call kinds. An interceptor takes the
 * next handler and returns a handler that may run code before and after it,
 * reject the call by throwing an RpcError, or pass it on.
 * @module
 */
import type { ServerCall } from "./context.ts";

/** Runs a call (or the rest of the chain). Resolves when the call succeeded. */
export type CallHandler = (call: ServerCall) => Promise<void>;

/**
 * Wraps the next handler.
 *
 * @example
 * ```ts
 * import { type Interceptor, RpcError, Status } from "svc";
 * export const requireKey: Interceptor = (next) => async function requireKey(call) {
 *   if (!call.metadata.has("x-api-key")) throw new RpcError(Status.UNAUTHENTICATED, "x-api-key is missing");
 *   await next(call);
 * };
 * ```
 */
export type Interceptor = (next: CallHandler) => CallHandler;

/** Builds the chain once, at start-up: `interceptors[0]` runs first. */
export function compose(interceptors: readonly Interceptor[], handler: CallHandler): CallHandler {
  return interceptors.reduceRight((next, interceptor) => interceptor(next), handler);
}
