/**
 * Transports beneath the call pipeline.
 * @module
 */
import type { ResolvedServer } from "../config/types.ts";
import type { Logger } from "../log/types.ts";
import { createGrpcJsTransport } from "./grpc_js/server.ts";
import type { Transport } from "./types.ts";

export type { BoundAddress, CallStatus, Route, Transport, TransportCall } from "./types.ts";

/** The transport `server.transport` names. */
export function createTransport(server: ResolvedServer, log: Logger): Transport {
  // Config validation rejects "native" until that transport exists.
  return createGrpcJsTransport(server, log);
}
