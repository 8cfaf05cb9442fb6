/**
 * When `server.web.enabled`, the native transport's door for each new
 * connection: TLS connections go by ALPN (`h2` or `http/1.1`); plaintext
 * ones, and TLS clients that offered no ALPN, are sniffed (HTTP/2 preface
 * or not, within the preface timeout). HTTP/1.1 connections serve
 * gRPC-Web and Connect through the web handler. Imported by server.ts only
 * when enabled, so with it off neither this, the sniffer, the HTTP/1.1
 * connection nor the web protocol modules are loaded.
 * @module
 */
import type { ResolvedServer } from "../../config/types.ts";
import type { Logger } from "../../core/logger.ts";
import { Http1Connection, type Http1Handler, type Http1Limits } from "../http1/mod.ts";
import { createWebHandler } from "../web/serve_http1.ts";
import { withCors } from "../web/cors.ts";
import type { Route, TransportCall } from "../types.ts";
import { prefixedSocket, ProtocolSniffer } from "./protocol_sniffer.ts";
import type { ByteSocket } from "./socket.ts";
import type { InflateGate } from "./compression.ts";
import type { MemoryBudget } from "../../util/memory_budget.ts";

/** A connection (or a sniffer) as the transport's set holds it: ticked, drained, closed. */
export interface ServedConnection {
  tick(now: number): void;
  /** Resolves once its in-flight work is done (HTTP/1.1: once closed). */
  drain(): Promise<void> | void;
  close(): void;
}

/** What the dispatcher needs from the transport. */
export interface WebDispatchOptions {
  readonly server: ResolvedServer;
  readonly routes: ReadonlyMap<string, Route>;
  readonly onCall: () => (call: TransportCall) => void;
  readonly log: Logger;
  /** Adds to / removes from the transport's set of ticked connections. */
  readonly track: (connection: ServedConnection) => void;
  readonly untrack: (connection: ServedConnection) => void;
  /** The process's inflation pacing, shared with gRPC (issue 19). */
  readonly inflation: InflateGate;
  /** The process's memory budget, shared with gRPC. */
  readonly memory: MemoryBudget;
  /** Serves `socket` as HTTP/2; `webHandler` serves the streams that are not gRPC. */
  readonly serveH2: (socket: ByteSocket, webHandler: Http1Handler) => void;
}

/** `alpn`: the protocol TLS negotiated, or null (plaintext, or none offered). */
export type WebDispatch = (socket: ByteSocket, alpn: string | null) => void;

/**
 * The dispatcher for new connections.
 *
 * @example
 * ```ts
 * const dispatch = createWebDispatch({ server, routes, onCall: () => onCall, log,
 *   track: (c) => connections.add(c), untrack: (c) => connections.delete(c), serveH2 });
 * dispatch(socket, null);
 * ```
 */
export function createWebDispatch(options: WebDispatchOptions): WebDispatch {
  const { server, log } = options;
  const limits = http1Limits(server);
  const webHandler = createWebHandler({
    routes: options.routes,
    onCall: options.onCall,
    maxReceiveMessageBytes: server.maxReceiveMessageBytes,
    maxSendMessageBytes: server.maxSendMessageBytes,
    compression: server.compression,
    inflation: options.inflation,
    memory: options.memory,
  });
  // Wrapped only when configured, so with CORS off nothing is added per request.
  const handler = server.web.cors.allowedOrigins.length > 0
    ? withCors(webHandler, server.web.cors)
    : webHandler;

  const serveHttp1 = (socket: ByteSocket, initial: Uint8Array) => {
    let served: ServedConnection | null = null;
    let closedEarly = false;
    const connection = new Http1Connection(socket, initial, handler, limits, {
      onHandlerError: (error) => log.debug("web request failed", { error: String(error) }),
      onClose: () => {
        if (served !== null) options.untrack(served);
        else closedEarly = true;
      },
    });
    served = {
      tick: (now) => connection.tick(now),
      drain: () => {
        connection.drain();
        return connection.closed;
      },
      close: () => connection.close(),
    };
    // The socket may have closed during construction (its end already seen).
    if (!closedEarly) options.track(served);
  };

  return function dispatchConnection(socket, alpn) {
    if (alpn === "h2") return options.serveH2(socket, handler);
    if (alpn === "http/1.1") return serveHttp1(socket, new Uint8Array(0));
    const deadline = performance.now() + server.http2.prefaceTimeout;
    const sniffer: ProtocolSniffer = new ProtocolSniffer(socket, deadline, (protocol, s, bytes) => {
      if (protocol === "h2") options.serveH2(prefixedSocket(s, bytes), handler);
      else serveHttp1(s, bytes);
    }, () => options.untrack(sniffer));
    options.track(sniffer);
  };
}

/** The HTTP/1.1 limits from `server.web`; bodies are bounded by maxReceiveMessageBytes. */
export function http1Limits(server: ResolvedServer): Http1Limits {
  const web = server.web;
  return {
    maxHeadBytes: web.maxHeadBytes,
    maxHeaderCount: web.maxHeaderCount,
    // One request per connection setting, so the loosest body any protocol needs: one
    // message, its 5-byte envelope prefix, base64 (grpc-web-text) growing it by 4/3.
    // Each message is held to maxReceiveMessageBytes exactly by the web layer; a
    // client stream's whole body is bounded by this too (HTTP/1.1 buffers nothing
    // beyond one message, but an unbounded upload would be an unbounded wait).
    maxBodyBytes: Math.ceil((server.maxReceiveMessageBytes + 5) / 3) * 4,
    headTimeoutMs: web.headTimeout,
    bodyIdleTimeoutMs: web.bodyIdleTimeout,
    keepAliveIdleMs: web.keepAliveIdle,
  };
}
