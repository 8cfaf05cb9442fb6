/**
 * The native transport: gRPC over this package's own HTTP/2 on node:net
 * sockets (h2c with prior knowledge) or node:tls (ALPN h2, optional client
 * certificates). Why not Deno.listen: see socket.ts.
 * @module
 */
import type { ResolvedServer } from "../../config/types.ts";
import type { Logger } from "../../core/logger.ts";
import type { BoundAddress, Route, Transport, TransportCall } from "../types.ts";
import { Http2Connection } from "./connection.ts";
import { nativeLimits } from "./limits.ts";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { toPeerCertificate } from "../peer_certificate.ts";
import { type ByteSocket, nodeSocket } from "./socket.ts";

/** How often connections check their timers (preface, keepalive, idle, age). */
const TICK_MS = 250;

/** Creates the native transport for `server`. */
export function createNativeTransport(server: ResolvedServer, log: Logger): Transport {
  const limits = nativeLimits(server);
  const connections = new Set<Http2Connection>();
  let routes: ReadonlyMap<string, Route> = new Map();
  let onCall: (call: TransportCall) => void = () => {};
  let stopListening: (() => void) | null = null;
  let draining = false;
  let ticker: ReturnType<typeof setInterval> | undefined;

  const tick = () => {
    const now = performance.now();
    for (const connection of connections) connection.tick(now);
  };

  const serve = (socket: ByteSocket) => {
    if (draining) {
      socket.close();
      return;
    }
    const connection = new Http2Connection(socket, {
      routes,
      onCall,
      limits,
      log,
      onClose: (closed) => {
        connections.delete(closed);
        if (connections.size === 0 && ticker !== undefined) {
          clearInterval(ticker);
          ticker = undefined;
        }
      },
    });
    connections.add(connection);
    ticker ??= setInterval(tick, TICK_MS);
    connection.serve();
  };

  return {
    async listen(routeList, handler) {
      routes = new Map(routeList.map((route) => [route.path, route]));
      onCall = handler;
      const bound = await bind(server, serve, log);
      stopListening = bound.stop;
      return bound.address;
    },

    async drain() {
      draining = true;
      stopListening?.();
      await Promise.all([...connections].map((connection) => connection.drain()));
    },

    close() {
      draining = true;
      stopListening?.();
      for (const connection of [...connections]) connection.close();
      clearInterval(ticker);
      ticker = undefined;
      return Promise.resolve();
    },
  };
}

interface Bound {
  address: BoundAddress;
  stop: () => void;
}

async function bind(
  server: ResolvedServer,
  serve: (socket: ByteSocket) => void,
  log: Logger,
): Promise<Bound> {
  const tls = server.tls;
  let listener: NetServer;
  if (tls) {
    const requireClientCert = tls.clientAuth === "require";
    // Loaded only for TLS: node:tls is several ms of every plain-text start.
    const { createServer: createTlsServer } = await import("node:tls");
    const [cert, key, ca] = await Promise.all([
      Deno.readTextFile(tls.cert),
      Deno.readTextFile(tls.key),
      tls.ca ? Deno.readTextFile(tls.ca) : undefined,
    ]);
    const tlsServer = createTlsServer({
      cert,
      key,
      ca,
      requestCert: requireClientCert,
      rejectUnauthorized: requireClientCert,
      ALPNProtocols: ["h2"],
      handshakeTimeout: server.http2.prefaceTimeout,
    }, (socket) => {
      socket.setNoDelay(true);
      const certificate = requireClientCert ? toPeerCertificate(socket.getPeerCertificate()) : null;
      serve(nodeSocket(socket, certificate));
    });
    tlsServer.on("tlsClientError", (error, socket) => {
      log.debug("TLS handshake failed", { error });
      // Deno 2.8.3 reports handshakeTimeout here but leaves the socket open:
      // 100 silent clients were still connected long after it (issue 19).
      socket.destroy();
    });
    listener = tlsServer;
  } else {
    listener = createNetServer({ noDelay: true }, (socket) => serve(nodeSocket(socket, null)));
  }
  const port = await new Promise<number>((resolve, reject) => {
    const failed = (error: Error) => reject(listenError(server, error));
    listener.once("error", failed);
    listener.listen(server.port, server.host, () => {
      listener.off("error", failed);
      // From now on, out of file descriptors and the like: keep serving the
      // connections we have. (Before, a listen error is the caller's to report.)
      listener.on("error", (error) => log.warn("accepting a connection failed", { error }));
      const address = listener.address();
      resolve(typeof address === "object" && address ? address.port : server.port);
    });
  });
  return { address: { host: server.host, port }, stop: () => listener.close() };
}

function listenError(server: ResolvedServer, error: unknown): Error {
  const host = server.host.includes(":") ? `[${server.host}]` : server.host;
  if (error instanceof Deno.errors.AddrInUse || /EADDRINUSE/.test(String(error))) {
    return new Error(`cannot listen on ${host}:${server.port}: address already in use`);
  }
  if (error instanceof Deno.errors.PermissionDenied || /EACCES/.test(String(error))) {
    return new Error(`cannot listen on ${host}:${server.port}: permission denied`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
