/**
 * The admin HTTP server: `/metrics`, `/healthz`, `/livez`, `/readyz`.
 * @module
 */
export { type AdminOptions, type AdminServer, startAdmin } from "./admin.ts";
