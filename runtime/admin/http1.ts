/**
 * A small HTTP/1.1 server for the admin port, on node:net, with every wait
 * bounded. `Deno.serve` gives no deadline for a request's head: 600 clients
 * that sent half a request held 600 connections for good (issue 19). The
 * admin port answers GET and HEAD on four paths, so a request is its head
 * alone: at most {@link MAX_HEAD_BYTES}, within {@link HEAD_TIMEOUT_MS} of
 * the connection opening or of the previous response, or the connection
 * is closed. Keep-alive is kept (Prometheus reuses its connection).
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import { type ListenerState, watchListener } from "../util/listener_watch.ts";

/** Longest request head (request line and headers) accepted. */
export const MAX_HEAD_BYTES = 8 * 1024;
/** How long a client has to send a request's whole head, by default. */
export const HEAD_TIMEOUT_MS = 10_000;
/**
 * Connections held at once. A new one beyond it closes the oldest that is
 * not being answered, rather than being refused: a probe that just arrived
 * is served even while someone holds many connections open.
 */
export const MAX_CONNECTIONS = 256;

/** A response: status, headers and body (not sent for HEAD). */
export interface Http1Response {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Answers one request; must not throw (a thrown error is answered 500). */
export type Http1Handler = (method: string, path: string) => Http1Response | Promise<Http1Response>;

/** A listening server. */
export interface Http1Server {
  readonly port: number;
  readonly host: string;
  /** Stops listening; closes idle connections now and the rest once answered, or after `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Binds `host:port` and serves `handler`; rejects at once when the address is taken. */
export async function listenHttp1(
  host: string,
  port: number,
  handler: Http1Handler,
  headTimeoutMs: number = HEAD_TIMEOUT_MS,
  onListenerState: (state: ListenerState, error?: unknown) => void = () => {},
): Promise<Http1Server> {
  const connections = new Set<_Connection>();
  let accepted = 0;
  const create = () =>
    createServer((socket) => {
      accepted++;
      if (connections.size >= MAX_CONNECTIONS) {
        for (const old of connections) {
          if (old.idle) {
            old.destroy();
            connections.delete(old);
            break;
          }
        }
      }
      const connection = new _Connection(
        socket,
        handler,
        headTimeoutMs,
        () => connections.delete(connection),
      );
      connections.add(connection);
    });
  let server = create();
  const bound = await _listen(server, host, port);
  // Deno 2.8.3 closes a node:net listener whose accept failed (EMFILE) without a word.
  const watch = watchListener({
    host,
    port: bound.port,
    accepted: () => accepted,
    rebind: async () => {
      server.close();
      const next = create();
      await _listen(next, host, bound.port);
      server = next;
    },
    onState: onListenerState,
  });
  return {
    host: bound.address,
    port: bound.port,
    close: (timeoutMs) => {
      watch.stop();
      return _close(server, connections, timeoutMs);
    },
  };
}

function _listen(server: Server, host: string, port: number) {
  return new Promise<{ address: string; port: number }>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(_denoError(error)));
    server.listen({ host, port }, () => {
      server.on("error", () => {}); // after listening, accept errors do not stop the server
      resolve(server.address() as { address: string; port: number });
    });
  });
}

async function _close(server: Server, connections: Set<_Connection>, timeoutMs: number) {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const connection of connections) connection.closeWhenIdle();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
  try {
    await Promise.race([closed, timedOut]);
  } finally {
    clearTimeout(timer);
    for (const connection of connections) connection.destroy();
  }
}

/** One client connection: read a head, answer, repeat. */
class _Connection {
  readonly #socket: Socket;
  readonly #handler: Http1Handler;
  readonly #onClose: () => void;
  readonly #headTimeoutMs: number;
  #head = "";
  #busy = false;
  #closing = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: Socket, handler: Http1Handler, headTimeoutMs: number, onClose: () => void) {
    this.#socket = socket;
    this.#handler = handler;
    this.#headTimeoutMs = headTimeoutMs;
    this.#onClose = onClose;
    socket.setEncoding("latin1");
    socket.on("data", this.#onData);
    socket.on("error", () => socket.destroy());
    socket.once("close", this.#onClosed);
    this.#arm();
  }

  /** True while no request is being answered. */
  get idle(): boolean {
    return !this.#busy;
  }

  /** Closes now if no request is being answered, else after its response. */
  closeWhenIdle(): void {
    this.#closing = true;
    if (this.#busy) return;
    // A response still being written is finished (within the caller's bound), then closed.
    if (this.#socket.writableLength > 0) this.#socket.end();
    else this.destroy();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#onTimeout, this.#headTimeoutMs);
  }

  readonly #onTimeout = (): void => {
    if (this.#busy) return;
    // Half a request after the deadline: 408 if anything came, else just close.
    if (this.#head.length > 0) this.#send("GET", 408, "request timeout\n", false);
    else this.destroy();
  };

  readonly #onClosed = (): void => {
    clearTimeout(this.#timer);
    // Deno keeps a closed node:net socket reachable; drop what it holds.
    this.#socket.removeAllListeners("data");
    this.#head = "";
    this.#onClose();
  };

  readonly #onData = (chunk: string): void => {
    this.#head += chunk;
    if (this.#busy) {
      // A pipelined request waits for the answer before it; its size is bounded all the same.
      if (this.#head.length > MAX_HEAD_BYTES) this.destroy();
      return;
    }
    const end = this.#head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (this.#head.length > MAX_HEAD_BYTES) this.#send("GET", 413, "request too large\n", false);
      return;
    }
    if (end > MAX_HEAD_BYTES) return this.#send("GET", 413, "request too large\n", false);
    const head = this.#head.slice(0, end);
    this.#head = this.#head.slice(end + 4);
    void this.#answer(head);
  };

  async #answer(head: string): Promise<void> {
    const [requestLine, ...fields] = head.split("\r\n");
    const match = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(requestLine);
    if (!match) return this.#send("GET", 400, "bad request\n", false);
    const [, method, target, minor] = match;
    const headers = new Map<string, string>();
    for (const field of fields) {
      const colon = field.indexOf(":");
      if (colon > 0) {
        headers.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim());
      }
    }
    // A body is not read: a request announcing one cannot be answered on this connection.
    const hasBody = (headers.get("content-length") ?? "0") !== "0" ||
      headers.has("transfer-encoding");
    const connection = headers.get("connection")?.toLowerCase();
    const keepAlive = !hasBody &&
      (minor === "1" ? connection !== "close" : connection === "keep-alive");
    const path = target.startsWith("/")
      ? target.split("?")[0]
      : new URL(target, "http://x").pathname;
    this.#busy = true;
    clearTimeout(this.#timer);
    let response: Http1Response;
    try {
      response = await this.#handler(method, path);
    } catch {
      response = {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
        body: "internal error\n",
      };
    }
    this.#busy = false;
    this.#write(method, response, keepAlive && !this.#closing);
  }

  #send(method: string, status: number, body: string, keepAlive: boolean): void {
    this.#write(
      method,
      { status, headers: { "content-type": "text/plain; charset=utf-8" }, body },
      keepAlive,
    );
  }

  #write(method: string, response: Http1Response, keepAlive: boolean): void {
    const body = new TextEncoder().encode(response.body);
    let head = `HTTP/1.1 ${response.status} ${REASONS[response.status] ?? "Status"}\r\n`;
    for (const [key, value] of Object.entries(response.headers)) head += `${key}: ${value}\r\n`;
    head += `content-length: ${body.length}\r\nconnection: ${
      keepAlive ? "keep-alive" : "close"
    }\r\n\r\n`;
    const socket = this.#socket;
    if (socket.destroyed) return;
    socket.write(head, "latin1");
    if (method !== "HEAD" && body.length > 0) socket.write(body);
    if (!keepAlive) {
      socket.end();
      // A client that never reads must not hold the connection: give the write a bound.
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => socket.destroy(), this.#headTimeoutMs);
      return;
    }
    this.#arm();
    if (this.#head.includes("\r\n\r\n")) this.#onData("");
  }
}

function _denoError(error: NodeJS.ErrnoException): Error {
  if (error.code === "EADDRINUSE") return new Deno.errors.AddrInUse(error.message);
  if (error.code === "EACCES") return new Deno.errors.PermissionDenied(error.message);
  if (error.code === "EADDRNOTAVAIL") return new Deno.errors.AddrNotAvailable(error.message);
  return error;
}
