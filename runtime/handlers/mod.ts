/**
 * Handler files: definition, discovery, validation and binding.
 * @module
 */
export { defineService, isServiceDefinition } from "./define.ts";
export type { AnyMethod, ServiceDefinition } from "./define.ts";
export { discoverHandlerFiles, type HandlerSource, isHandlerFileName } from "./discover.ts";
export { type LoadedHandlers, loadHandlers } from "./load.ts";
export { lowerCamel, type MethodBinding } from "./bind.ts";
