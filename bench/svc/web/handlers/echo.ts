/**
 * bench.Echo, the same handler as the default config's: the gRPC cases and
 * the cold-start probe call it on this config too.
 * @module
 */
export { default } from "../../default/handlers/echo.ts";
