/**
 * The native transport: gRPC over this package's own HTTP/2 on node:net
 * sockets (h2c with prior knowledge) or node:tls (ALPN h2, optional client
 * certificates). Why not Deno.listen: see socket.ts. With
 * `server.web.enabled`, the same port also serves gRPC-Web and Connect over
 * HTTP/1.1 (web_dispatch.ts, loaded only then).
 * @module
 */
import type { ResolvedServer } from "../../config/types.ts";
import type { Logger } from "../../core/logger.ts";
import type { BoundAddress, Route, Transport, TransportCall, TransportOptions } from "../types.ts";
import { Http2Connection } from "./connection.ts";
import { nativeLimits } from "./limits.ts";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { toPeerCertificate } from "../peer_certificate.ts";
import { type ByteSocket, nodeSocket } from "./socket.ts";
import { watchListener } from "../../util/listener_watch.ts";
import { unlimitedBudget } from "../../util/memory_budget.ts";
import { InflateGate } from "./compression.ts";
import type { ServedConnection, WebDispatch } from "./web_dispatch.ts";
import type { Http1Handler } from "../http1/mod.ts";

/** How often connections check their timers (preface, keepalive, idle, age). */
const TICK_MS = 250;

/** Creates the native transport for `server`. */
export function createNativeTransport(
  server: ResolvedServer,
  log: Logger,
  options: TransportOptions = {},
): Transport {
  const memory = options.memory ?? unlimitedBudget();
  const timeReads = options.timeReads ?? false;
  const limits = nativeLimits(server);
  const inflation = new InflateGate();
  // HTTP/2 connections, and with web enabled HTTP/1.1 ones and sniffers too.
  const connections = new Set<ServedConnection>();
  // One map for the transport's life: every connection holds it, so
  // setRoutes() mutates it in place and open connections see the change.
  const routes = new Map<string, Route>();
  let onCall: (call: TransportCall) => void = () => {};
  let bound: Bound | null = null;
  let draining = false;
  let ticker: ReturnType<typeof setInterval> | undefined;

  const tick = () => {
    const now = performance.now();
    for (const connection of connections) connection.tick(now);
  };

  const track = (connection: ServedConnection) => {
    connections.add(connection);
    ticker ??= setInterval(tick, TICK_MS);
  };
  const untrack = (connection: ServedConnection) => {
    connections.delete(connection);
    if (connections.size === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
  let web: WebDispatch | null = null;

  const serveH2 = (socket: ByteSocket, webHandler: Http1Handler | null = null) => {
    const connection = new Http2Connection(socket, {
      webHandler,
      routes,
      onCall,
      limits,
      log,
      memory,
      inflation,
      timeReads,
      onClose: untrack,
    });
    track(connection);
    connection.serve();
  };

  const serve = (socket: ByteSocket, alpn: string | null) => {
    if (draining) {
      socket.close();
      return;
    }
    if (web === null) serveH2(socket);
    else web(socket, alpn);
  };

  return {
    async listen(routeList, handler) {
      replaceRoutes(routes, routeList);
      onCall = handler;
      if (server.web.enabled) {
        const { createWebDispatch } = await import("./web_dispatch.ts");
        web = createWebDispatch({
          server,
          routes,
          onCall: () => onCall,
          log,
          track,
          untrack,
          inflation,
          memory,
          serveH2,
        });
      }
      bound = await bind(server, serve, log);
      return bound.address;
    },

    setRoutes(routeList) {
      replaceRoutes(routes, routeList);
    },

    async drain() {
      draining = true;
      bound?.stop();
      await Promise.all([...connections].map((connection) => connection.drain()));
    },

    close() {
      draining = true;
      bound?.stop();
      for (const connection of [...connections]) connection.close();
      clearInterval(ticker);
      ticker = undefined;
      return Promise.resolve();
    },

    get accepting() {
      return bound?.accepting ?? true;
    },
  };
}

function replaceRoutes(routes: Map<string, Route>, list: readonly Route[]): void {
  routes.clear();
  for (const route of list) routes.set(route.path, route);
}

interface Bound {
  address: BoundAddress;
  stop: () => void;
  /** The listener watch's finding; see util/listener_watch.ts. */
  readonly accepting: boolean;
}

/** Serves one accepted socket; `alpn` is what TLS negotiated, or null. */
type Serve = (socket: ByteSocket, alpn: string | null) => void;

async function bind(
  server: ResolvedServer,
  serve: Serve,
  log: Logger,
): Promise<Bound> {
  let accepted = 0;
  const create = await listenerFactory(server, (socket, alpn) => {
    accepted++;
    serve(socket, alpn);
  }, log);
  let listener = create();
  const port = await listenOn(listener, server, server.port);
  // Deno 2.8.3 closes a node:net listener whose accept failed (EMFILE) without a word.
  const watch = watchListener({
    host: server.host,
    port,
    accepted: () => accepted,
    shared: server.workers !== 1,
    rebind: async () => {
      listener.close();
      const next = create();
      await listenOn(next, server, port);
      listener = next;
    },
    onState: (state, error) => {
      if (state === "accepting") log.info("gRPC listener accepting again", { port });
      else log.error(`gRPC listener ${state}`, { port, error: error && String(error) });
    },
  });
  return {
    address: { host: server.host, port },
    stop: () => {
      watch.stop();
      listener.close();
    },
    get accepting() {
      return watch.state === "accepting";
    },
  };
}

/** A function making a new, unbound listener that serves each connection: plain or TLS. */
async function listenerFactory(
  server: ResolvedServer,
  serve: Serve,
  log: Logger,
): Promise<() => NetServer> {
  const tls = server.tls;
  if (!tls) {
    return () =>
      createNetServer({ noDelay: true }, (socket) => serve(nodeSocket(socket, null, true), null));
  }
  const requireClientCert = tls.clientAuth === "require";
  // Loaded only for TLS: node:tls is several ms of every plain-text start.
  const { createServer: createTlsServer } = await import("node:tls");
  const [cert, key, ca] = await Promise.all([
    Deno.readTextFile(tls.cert),
    Deno.readTextFile(tls.key),
    tls.ca ? Deno.readTextFile(tls.ca) : undefined,
  ]);
  return () => {
    const tlsServer = createTlsServer({
      cert,
      key,
      ca,
      requestCert: requireClientCert,
      rejectUnauthorized: requireClientCert,
      // http/1.1 only when it is served: otherwise a client offering both would pick it.
      ALPNProtocols: server.web.enabled ? ["h2", "http/1.1"] : ["h2"],
      handshakeTimeout: server.http2.prefaceTimeout,
    }, (socket) => {
      socket.setNoDelay(true);
      const certificate = requireClientCert ? toPeerCertificate(socket.getPeerCertificate()) : null;
      serve(nodeSocket(socket, certificate), socket.alpnProtocol || null);
    });
    tlsServer.on("tlsClientError", (error, socket) => {
      log.debug("TLS handshake failed", { error });
      // Deno 2.8.3 reports handshakeTimeout here but leaves the socket open:
      // 100 silent clients were still connected long after it (issue 19).
      socket.destroy();
    });
    return tlsServer;
  };
}

/** Binds `listener`; resolves with the bound port. */
function listenOn(listener: NetServer, server: ResolvedServer, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const failed = (error: Error) => reject(listenError(server, error));
    listener.once("error", failed);
    // With `server.workers` > 1 every worker binds the same port; the
    // kernel spreads new connections across them (SO_REUSEPORT).
    listener.listen({ port, host: server.host, reusePort: server.workers !== 1 }, () => {
      listener.off("error", failed);
      // From now on, keep serving the connections we have whatever accept does.
      listener.on("error", () => {});
      const address = listener.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
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
