/**
 * The public API handler files import as `"svc"`.
 *
 * @example
 * ```ts
 * import { defineService, RpcError, Status } from "svc";
 * export default defineService("helloworld.Greeter", {
 *   sayHello(req) {
 *     if (!req.name) throw new RpcError(Status.INVALID_ARGUMENT, "name is required");
 *     return { message: `Hello ${req.name}` };
 *   },
 * });
 * ```
 * @module
 */
export { defineService, isServiceDefinition } from "./handlers/define.ts";
export type { AnyMethod, ServiceDefinition } from "./handlers/define.ts";
export { defineMiddleware } from "./handlers/middleware.ts";
export type { MiddlewareDefinition } from "./handlers/middleware.ts";
export { RpcError, Status } from "./errors.ts";
export type { MetadataValue, RpcErrorOptions } from "./errors.ts";
export { Metadata } from "./metadata.ts";
export type { CallContext, PeerCertificate, ServerCall } from "./server/context.ts";
export type { CallHandler, Interceptor } from "./server/interceptor.ts";
export type { LogFields, Logger, LogLevel } from "./log/types.ts";
export type {
  BidiStreamClientMethod,
  CallClients,
  ClientCallOptions,
  ClientStreamClientMethod,
  ServerStreamClientMethod,
  ServiceClient,
  UnaryClientMethod,
} from "./registry/mod.ts";
