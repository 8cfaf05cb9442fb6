/**
 * The grpc-js transport: @grpc/grpc-js's Server on Deno's node:http2.
 * @module
 */
import { logVerbosity, Server, setLogger, setLogVerbosity } from "@grpc/grpc-js";
import type { Buffer } from "node:buffer";
import type { ResolvedServer } from "../../config/types.ts";
import type { Logger } from "../../core/logger.ts";
import type { BoundAddress, Route, Transport, TransportCall } from "../types.ts";
import { GrpcJsCall } from "./call.ts";
import "./deno_compat.ts";
import { toBuffer } from "./metadata.ts";
import { grpcJsCredentials, grpcJsServerOptions } from "./options.ts";

// grpc-js's names for the four call kinds.
const GRPC_JS_KIND = {
  unary: "unary",
  client_stream: "clientStream",
  server_stream: "serverStream",
  bidi_stream: "bidi",
} as const;

// Messages stay bytes here: the pipeline decodes with precompiled codecs.
const passThrough = (bytes: Buffer) => bytes;
const serialize = (bytes: Uint8Array) => toBuffer(bytes);

/**
 * Creates a grpc-js transport for `server` (host, port, TLS, limits).
 * grpc-js's own diagnostics go to `log` at debug level.
 */
export function createGrpcJsTransport(server: ResolvedServer, log: Logger): Transport {
  routeGrpcJsLogs(log);
  const grpcServer = new Server(grpcJsServerOptions(server));
  let closing = false;
  let registered = new Map<string, Route>();
  let onCall: (call: TransportCall) => void = () => {};

  return {
    async listen(routes, handler) {
      onCall = handler;
      for (const route of routes) {
        register(grpcServer, route, onCall, server.maxSendMessageBytes);
        registered.set(route.path, route);
      }
      const credentials = await grpcJsCredentials(server);
      const host = server.host.includes(":") ? `[${server.host}]` : server.host;
      const port = await new Promise<number>((resolve, reject) => {
        grpcServer.bindAsync(`${host}:${server.port}`, credentials, (error, port) => {
          if (!error) resolve(port);
          else if (/EADDRINUSE/.test(error.message)) {
            reject(new Error(`cannot listen on ${host}:${server.port}: address already in use`));
          } else if (/EACCES/.test(error.message)) {
            reject(new Error(`cannot listen on ${host}:${server.port}: permission denied`));
          } else reject(error);
        });
      });
      return { host: server.host, port } satisfies BoundAddress;
    },

    // grpc-js looks each call's handler up by path, so swapping its
    // registrations reaches open connections too.
    setRoutes(routes) {
      const next = new Map(routes.map((route) => [route.path, route]));
      for (const [path, route] of registered) {
        if (next.get(path)?.kind !== route.kind) grpcServer.unregister(path);
      }
      for (const [path, route] of next) {
        if (registered.get(path)?.kind !== route.kind) {
          register(grpcServer, route, onCall, server.maxSendMessageBytes);
        }
      }
      registered = next;
    },

    drain() {
      closing = true;
      return new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
    },

    close() {
      if (!closing) closing = true;
      grpcServer.forceShutdown();
      return Promise.resolve();
    },
  };
}

function register(
  grpcServer: Server,
  route: Route,
  onCall: (call: TransportCall) => void,
  maxSend: number,
) {
  const unaryReply = route.kind === "unary" || route.kind === "client_stream";
  const handler = unaryReply
    ? (call: never, callback: never) => onCall(new GrpcJsCall(route, call, callback, maxSend))
    : (call: never) => onCall(new GrpcJsCall(route, call, null, maxSend));
  grpcServer.register<Buffer, Uint8Array>(
    route.path,
    // One adapter covers the four grpc-js handler signatures.
    handler as never,
    serialize,
    passThrough,
    GRPC_JS_KIND[route.kind],
  );
}

// grpc-js prints to the console by default; keep its lines structured and
// out of the way unless the operator asks for debug logs.
function routeGrpcJsLogs(log: Logger): void {
  if (!log.enabled("debug")) {
    setLogVerbosity(logVerbosity.NONE);
    return;
  }
  const write = (...args: unknown[]) =>
    log.debug("grpc-js", { message: args.map(String).join(" ") });
  setLogger({ error: write, info: write, debug: write });
  setLogVerbosity(logVerbosity.DEBUG);
}
