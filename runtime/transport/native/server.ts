/**
 * The native transport: gRPC over this package's own HTTP/2 on
 * `Deno.listen` (h2c prior knowledge), `Deno.listenTls` with ALPN h2, or a
 * node:tls server when client certificates must be verified (mTLS).
 * @module
 */
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import type { ResolvedServer } from "../../config/types.ts";
import type { Logger } from "../../log/types.ts";
import type { BoundAddress, Route, Transport, TransportCall } from "../types.ts";
import { Http2Connection } from "./connection.ts";
import { nativeLimits } from "./limits.ts";
import { type ByteSocket, denoSocket, nodeTlsSocket } from "./socket.ts";

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
  if (tls && tls.clientAuth === "require") return await bindNodeTls(server, serve, log);
  let listener: Deno.Listener;
  try {
    listener = tls
      ? Deno.listenTls({
        hostname: server.host,
        port: server.port,
        cert: await Deno.readTextFile(tls.cert),
        key: await Deno.readTextFile(tls.key),
        alpnProtocols: ["h2"],
      })
      : Deno.listen({ hostname: server.host, port: server.port });
  } catch (error) {
    throw listenError(server, error);
  }
  const accept = async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
          return;
        }
        // Out of file descriptors and the like: keep serving the connections we have.
        log.warn("accepting a connection failed", { error });
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (!tls) (conn as Deno.TcpConn).setNoDelay(true);
      serve(denoSocket(conn));
    }
  };
  accept();
  const address = listener.addr as Deno.NetAddr;
  return {
    address: { host: server.host, port: address.port },
    stop: () => {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    },
  };
}

async function bindNodeTls(
  server: ResolvedServer,
  serve: (socket: ByteSocket) => void,
  log: Logger,
): Promise<Bound> {
  const tls = server.tls!;
  const [cert, key, ca] = await Promise.all([
    Deno.readTextFile(tls.cert),
    Deno.readTextFile(tls.key),
    Deno.readTextFile(tls.ca!),
  ]);
  const tlsServer: TlsServer = createTlsServer({
    cert,
    key,
    ca,
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: ["h2"],
    handshakeTimeout: server.http2.prefaceTimeout,
  }, (socket) => {
    socket.setNoDelay(true);
    serve(nodeTlsSocket(socket));
  });
  tlsServer.on("tlsClientError", (error) => log.debug("TLS handshake failed", { error }));
  const port = await new Promise<number>((resolve, reject) => {
    tlsServer.once("error", (error) => reject(listenError(server, error)));
    tlsServer.listen(server.port, server.host, () => {
      const address = tlsServer.address();
      resolve(typeof address === "object" && address ? address.port : server.port);
    });
  });
  return { address: { host: server.host, port }, stop: () => tlsServer.close() };
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
