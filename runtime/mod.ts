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
export { defineClientMiddleware } from "./handlers/client_middleware.ts";
export type { ClientMiddlewareDefinition } from "./handlers/client_middleware.ts";
export { RpcError, Status } from "./core/errors.ts";
export type { MetadataValue, RpcErrorOptions } from "./core/errors.ts";
export { Metadata } from "./core/metadata.ts";
export type { CallContext, ServerCall } from "./core/context.ts";
export type { PeerCertificate } from "./core/peer.ts";
export type { CallHandler, Interceptor } from "./core/interceptor.ts";
export type { LogFields, Logger, LogLevel } from "./core/logger.ts";
export type {
  BidiStreamClientMethod,
  CallClients,
  CallParent,
  ClientCall,
  ClientCallHandler,
  ClientCallOptions,
  ClientInterceptor,
  ClientStreamClientMethod,
  ServerStreamClientMethod,
  ServiceClient,
  UnaryClientMethod,
} from "./core/clients.ts";
