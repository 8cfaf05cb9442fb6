/**
 * The built-in interceptors. They run in this order, after "recover" (the
 * call runner itself): metrics → access log → rate limit → deadline → user
 * middleware → handler.
 * @module
 */
export { accessLog } from "./access_log.ts";
export { deadline } from "./deadline.ts";
