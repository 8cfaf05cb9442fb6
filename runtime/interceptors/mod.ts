/**
 * The built-in interceptors, in the order they run.
 * @module
 */
export { accessLog } from "./access_log.ts";
