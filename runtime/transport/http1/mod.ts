/**
 * A hardened HTTP/1.1 server connection for the gRPC port: RFC 9112
 * parsing that refuses request smuggling, bounded heads and bodies, tick
 * driven timeouts, keep-alive and graceful drain.
 * @module
 */
export { Http1Connection, LINGER_MS } from "./connection.ts";
export { Http1ProtocolError } from "./errors.ts";
export { Http1Headers } from "./headers.ts";
export type {
  Http1ConnectionOptions,
  Http1Handler,
  Http1Limits,
  Http1Request,
  Http1ResponseWriter,
} from "./types.ts";
