import { type ChannelOptions, ServerCredentials } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { ResolvedServer } from "../../config/types.ts";

// grpc-js compression algorithm ids (compression-algorithms.ts).
const COMPRESSION_IDS = { identity: 0, gzip: 2 } as const;

/** The grpc-js server options our config implies. Zero durations mean "no limit". */
export function grpcJsServerOptions(server: ResolvedServer): ChannelOptions {
  const { keepalive } = server;
  const options: ChannelOptions = {
    "grpc.max_receive_message_length": server.maxReceiveMessageBytes,
    "grpc.max_send_message_length": server.maxSendMessageBytes,
    "grpc.max_concurrent_streams": server.maxConcurrentStreams,
    "grpc-node.max_session_memory": server.maxSessionMemoryMb,
    "grpc.keepalive_time_ms": keepalive.time,
    "grpc.keepalive_timeout_ms": keepalive.timeout,
    "grpc.default_compression_algorithm": COMPRESSION_IDS[server.compression],
    // Not "grpc.enable_channelz": 0, though svc serves no channelz and it
    // costs each call two Dates and four closures: grpc-js 1.14.7 then
    // stops tracking sessions, and forceShutdown() leaves open streams
    // running (tests/shutdown_test.ts fails).
  };
  if (keepalive.maxConnectionIdle > 0) {
    options["grpc.max_connection_idle_ms"] = keepalive.maxConnectionIdle;
  }
  if (keepalive.maxConnectionAge > 0) {
    options["grpc.max_connection_age_ms"] = keepalive.maxConnectionAge;
    options["grpc.max_connection_age_grace_ms"] = keepalive.maxConnectionAgeGrace;
  }
  return options;
}

/** Plaintext, TLS, or mTLS credentials from `server.tls`. */
export async function grpcJsCredentials(server: ResolvedServer): Promise<ServerCredentials> {
  const tls = server.tls;
  if (!tls) return ServerCredentials.createInsecure();
  const [cert, key, ca] = await Promise.all([
    Deno.readFile(tls.cert),
    Deno.readFile(tls.key),
    tls.ca ? Deno.readFile(tls.ca) : Promise.resolve(null),
  ]);
  // With no CA at all, grpc-js on Deno 2.8.3's node:tls sends bytes that
  // clients reject after the handshake ("wrong version number"); any CA
  // avoids it. Without clientAuth no client certificate is requested, so
  // the server's own chain is a harmless stand-in.
  return ServerCredentials.createSsl(
    Buffer.from(ca ?? cert),
    [{ cert_chain: Buffer.from(cert), private_key: Buffer.from(key) }],
    tls.clientAuth === "require",
  );
}
