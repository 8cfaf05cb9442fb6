/**
 * Transports beneath the call pipeline.
 * @module
 */
import type { ResolvedServer } from "../config/types.ts";
import type { Logger } from "../log/types.ts";
import { createGrpcJsTransport } from "./grpc_js/server.ts";
import { createNativeTransport } from "./native/server.ts";
import type { Transport } from "./types.ts";

export type { BoundAddress, CallStatus, Route, Transport, TransportCall } from "./types.ts";

/** The transport `server.transport` names. */
export function createTransport(server: ResolvedServer, log: Logger): Transport {
  return server.transport === "native"
    ? createNativeTransport(server, log)
    : createGrpcJsTransport(server, log);
}
