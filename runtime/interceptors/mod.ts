/**
 * The built-in interceptors and observers, in the order a call meets them:
 * "recover" (the call runner itself), then the observers metrics → access
 * log (told of the start and the end; they see the status the client gets),
 * then the interceptors rate limit → deadline → user middleware → handler.
 * @module
 */
export { accessLog } from "./access_log.ts";
export { deadline } from "./deadline.ts";
