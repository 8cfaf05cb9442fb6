/**
 * Test helpers: a real node:net server running Http1Connection over
 * nodeSocket() with a small echo handler, and a raw TCP client that sends
 * bytes as given and records what comes back.
 * @module
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { type ByteSocket, nodeSocket } from "../native/socket.ts";
import { Http1Connection } from "./connection.ts";
import type { Http1Handler, Http1Limits, Http1Request, Http1ResponseWriter } from "./types.ts";

/** Small limits so tests reach them quickly. */
export const TEST_LIMITS: Http1Limits = {
  maxHeadBytes: 8192,
  maxHeaderCount: 100,
  maxBodyBytes: 64 * 1024,
  headTimeoutMs: 1000,
  bodyIdleTimeoutMs: 1000,
  keepAliveIdleMs: 800,
};

/** How often the test server ticks its connections. */
export const TEST_TICK_MS = 50;

const encoder = new TextEncoder();

/** Reads the whole body. */
export async function readAll(request: Http1Request): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of request.body) parts.push(part);
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/**
 * The echo handler: answers with the body it read, plus `x-method` and
 * `x-path`. `/stream` answers chunked in three writes; `/wait` holds its
 * answer until `release()`; `/ignore` answers without reading the body;
 * `/throw` throws; `/flood` writes until the connection dies.
 */
export function echoHandler(gate: { wait: Promise<void>; started: () => void }): Http1Handler {
  return async function echo(request: Http1Request, response: Http1ResponseWriter) {
    const base: [string, string][] = [["x-method", request.method], ["x-path", request.path]];
    if (request.path === "/ignore") {
      response.writeHead(204, base);
      return;
    }
    if (request.path === "/throw") throw new Error("handler bug: secret detail");
    if (request.path === "/flood") {
      // Writes until the connection gives up on a client that does not read.
      const block = new Uint8Array(256 * 1024);
      response.writeHead(200, base);
      while (!request.signal.aborted) await response.write(block);
      return;
    }
    const body = await readAll(request);
    if (request.path === "/stream") {
      response.writeHead(200, base);
      for (const word of ["one", "two", "three"]) await response.write(encoder.encode(word));
      return;
    }
    if (request.path === "/wait") {
      gate.started();
      await gate.wait;
    }
    response.writeHead(200, [...base, ["content-length", String(body.length)]]);
    await response.write(body);
  };
}

/** A listening test server. */
export interface TestServer extends AsyncDisposable {
  readonly port: number;
  readonly connections: Set<Http1Connection>;
  /** Lets every `/wait` request answer. */
  release(): void;
  /** Resolves when a `/wait` request has reached its handler. */
  readonly waitStarted: Promise<void>;
  /** Every handler error seen. */
  readonly handlerErrors: unknown[];
  /** Bytes the sockets have delivered to connections, in total. */
  readonly bytesDelivered: number;
}

/** Starts a test server on a free loopback port. */
export async function startServer(limits: Http1Limits = TEST_LIMITS): Promise<TestServer> {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const handler = echoHandler({ wait: release.promise, started: () => started.resolve() });
  const connections = new Set<Http1Connection>();
  const handlerErrors: unknown[] = [];
  let bytesDelivered = 0;
  const server: Server = createServer({ noDelay: true }, (socket: Socket) => {
    const inner = nodeSocket(socket, null);
    const counted: ByteSocket = {
      ...inner,
      start: (onData, onEnd) =>
        inner.start((chunk) => {
          bytesDelivered += chunk.length;
          onData(chunk);
        }, onEnd),
    };
    const connection: Http1Connection = new Http1Connection(
      counted,
      new Uint8Array(0),
      handler,
      limits,
      {
        onHandlerError: (error) => handlerErrors.push(error),
        onClose: () => connections.delete(connection),
      },
    );
    connections.add(connection);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const ticker = setInterval(() => {
    const now = performance.now();
    for (const connection of connections) connection.tick(now);
  }, TEST_TICK_MS);
  return {
    port: (server.address() as { port: number }).port,
    connections,
    release: () => release.resolve(),
    waitStarted: started.promise,
    handlerErrors,
    get bytesDelivered() {
      return bytesDelivered;
    },
    async [Symbol.asyncDispose]() {
      release.resolve();
      clearInterval(ticker);
      for (const connection of [...connections]) connection.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw TCP client. */
export class RawClient implements AsyncDisposable {
  readonly socket: Socket;
  #received: number[] = [];
  #changed = Promise.withResolvers<void>();
  readonly #closed = Promise.withResolvers<void>();
  /** True if the connection ended with an error (a reset). */
  reset = false;
  isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      for (const byte of chunk) this.#received.push(byte);
      this.#wake();
    });
    socket.on("error", () => this.reset = true);
    socket.on("close", () => {
      this.isClosed = true;
      this.#closed.resolve();
      this.#wake();
    });
  }

  /** Connects to the test server. */
  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawClient(socket);
  }

  /** Sends text (as latin1 bytes) or bytes; resolves once handed to the kernel. */
  send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? latin1(data) : data;
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Everything received so far, as latin1 text. */
  get text(): string {
    let text = "";
    for (let i = 0; i < this.#received.length; i += 4096) {
      text += String.fromCharCode(...this.#received.slice(i, i + 4096));
    }
    return text;
  }

  /** Waits until `done(text)` holds or the connection closes; throws after `timeoutMs`. */
  async until(done: (text: string) => boolean, timeoutMs = 3000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (!done(this.text)) {
      if (this.isClosed) return this.text;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting; received ${JSON.stringify(this.text)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#changed.promise,
        new Promise((resolve) => timer = setTimeout(resolve, left)),
      ]);
      clearTimeout(timer);
    }
    return this.text;
  }

  /** Resolves true if the server closes within `timeoutMs`, else false. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      this.#closed.promise.then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
    ]);
    clearTimeout(timer);
    return result;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.socket.destroy();
    await this.#closed.promise;
  }

  #wake(): void {
    const changed = this.#changed;
    this.#changed = Promise.withResolvers<void>();
    changed.resolve();
  }
}

/** One parsed response. */
export interface ParsedResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/**
 * Parses the complete responses at the start of `text` (Content-Length,
 * chunked, or bodiless); stops at an incomplete one.
 */
export function parseResponses(text: string, bodiless = false): ParsedResponse[] {
  const responses: ParsedResponse[] = [];
  let rest = text;
  while (true) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return responses;
    const [statusLine, ...lines] = rest.slice(0, end).split("\r\n");
    const status = Number(statusLine.split(" ")[1]);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    rest = rest.slice(end + 4);
    if (status === 100) continue;
    let body = "";
    if (bodiless || status === 204 || status === 304) {
      // none
    } else if (headers.has("content-length")) {
      const length = Number(headers.get("content-length"));
      if (rest.length < length) return responses;
      body = rest.slice(0, length);
      rest = rest.slice(length);
    } else if (headers.get("transfer-encoding") === "chunked") {
      let complete = false;
      while (true) {
        const lineEnd = rest.indexOf("\r\n");
        if (lineEnd < 0) break;
        const size = parseInt(rest.slice(0, lineEnd), 16);
        if (rest.length < lineEnd + 2 + size + 2) break;
        rest = rest.slice(lineEnd + 2);
        if (size === 0) {
          rest = rest.slice(2);
          complete = true;
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
      if (!complete) return responses;
    }
    responses.push({ status, headers, body });
  }
}

/** A string's chars as bytes (each below 256). */
export function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Sleeps `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
