/**
 * Transports beneath the call pipeline.
 * @module
 */
import type { ResolvedServer } from "../config/types.ts";
import type { Logger } from "../core/logger.ts";
import { createNativeTransport } from "./native/server.ts";
import type { Transport, TransportOptions } from "./types.ts";

export type {
  BoundAddress,
  CallStatus,
  Route,
  Transport,
  TransportCall,
  TransportOptions,
} from "./types.ts";

/**
 * The transport `server.transport` names. grpc-js is imported only when
 * chosen: loading it costs tens of milliseconds of start-up. (A literal
 * specifier, so `deno compile` still embeds it.)
 */
export async function createTransport(
  server: ResolvedServer,
  log: Logger,
  options: TransportOptions = {},
): Promise<Transport> {
  if (server.transport === "native") return createNativeTransport(server, log, options);
  const { createGrpcJsTransport } = await import("./grpc_js/server.ts");
  return createGrpcJsTransport(server, log);
}
