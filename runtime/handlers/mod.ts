/**
 * Handler files: definition, discovery, validation and binding.
 * @module
 */
export { defineService, isServiceDefinition } from "./define.ts";
export type { AnyMethod, ServiceDefinition } from "./define.ts";
export {
  discoverHandlerFiles,
  fileSource,
  findClientMiddlewareFile,
  findMiddlewareFile,
  type HandlerSource,
  isHandlerFileName,
  type ModuleVersion,
} from "./discover.ts";
export { type LoadedHandlers, loadHandlers } from "./load.ts";
export { bindMethods, lowerCamel, type MethodBinding } from "./bind.ts";
export {
  defineMiddleware,
  loadMiddleware,
  MIDDLEWARE_FILE_HINT,
  type MiddlewareDefinition,
} from "./middleware.ts";
export {
  CLIENT_MIDDLEWARE_FILE_HINT,
  type ClientMiddlewareDefinition,
  defineClientMiddleware,
  loadClientMiddleware,
} from "./client_middleware.ts";
