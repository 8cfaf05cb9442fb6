/**
 * A gRPC-Web or Connect request on an HTTP/2 stream, handed to the same web
 * handler that serves HTTP/1.1 (web/serve_http1.ts) in the same shapes: an
 * {@link Http1Request} whose body streams in from DATA frames and an
 * {@link Http1ResponseWriter} whose writes become DATA frames. So every web
 * protocol rule (framing, JSON, errors, CORS, compression) is written once;
 * this file only carries bytes between the stream and those shapes, with the
 * connection's flow control both ways: request bytes are given back as
 * window only once the handler has taken them, and a write resolves once
 * the stream's queued output is low again.
 *
 * Unlike HTTP/1.1, both directions are open at once, so bidi streaming
 * works here (the web handler allows it when `httpVersion` is "2").
 * @module
 */
import type { Status } from "../../core/errors.ts";
import { Http1Headers, Http1ProtocolError } from "../http1/mod.ts";
import type { Http1Handler, Http1Request, Http1ResponseWriter } from "../http1/mod.ts";
import { RequestBody } from "../http1/request_body.ts";
import { ErrorCode } from "./frame.ts";
import type { H2Stream } from "./h2_stream.ts";
import { CONNECTION_SPECIFIC } from "./request_headers.ts";
import type { HeaderField } from "./hpack/mod.ts";

/** What a web stream needs from its connection. */
export interface WebStreamOwner {
  readonly peer: string;
  /** Queues response HEADERS (END_STREAM when `end`). */
  sendHeaders(stream: H2Stream, fields: readonly HeaderField[], end: boolean): void;
  /** Queues body bytes as DATA; false when they cannot be held (memory budget). */
  sendData(stream: H2Stream, bytes: Uint8Array): boolean;
  /** Queues the end of the stream (an empty DATA frame with END_STREAM) after the data. */
  sendEnd(stream: H2Stream): void;
  /** Resets the stream (RST_STREAM with `code`). */
  resetStream(stream: H2Stream, code: number): void;
  /** Request bytes were taken: give them back as window. */
  releaseBody(stream: H2Stream): void;
  /** The handler returned. */
  handlerDone(stream: H2Stream): void;
  /** The handler threw (the client saw only a generic answer): for the debug log. */
  handlerFailed(error: unknown): void;
  /** Resolves when the stream's queued output is low again, or at once if it is. */
  whenWritable(stream: H2Stream): Promise<void> | void;
}

/** The request head, already validated by request_headers.ts. */
export interface WebStreamHead {
  readonly method: string;
  /** `:path` as sent, query included. */
  readonly target: string;
}

const INTERNAL = ErrorCode.INTERNAL_ERROR;
const encoder = new TextEncoder();

/**
 * One web exchange on one HTTP/2 stream.
 *
 * @example
 * ```ts
 * const stream = new H2WebStream(connection, 1, head, fields, handler, 4 << 20, 65535, 65535);
 * streams.set(1, stream);
 * stream.start(); // runs the handler
 * ```
 */
export class H2WebStream implements H2Stream {
  readonly id: number;
  sendWindow: number;
  pending: Uint8Array[] = [];
  pendingOffset = 0;
  pendingBytes = 0;
  parkedBytes = 0;
  trailers: readonly HeaderField[] | null = null;
  headersSent = false;
  localClosed = false;
  drainWaiters: (() => void)[] | null = null;
  recvWindow: number;
  unreleased = 0;
  windowCredit = 0;
  heldBytes = 0;
  heldCounted = 0;
  reservedBytes = 0;
  remoteClosed = false;
  running = false;
  detached = false;

  readonly #owner: WebStreamOwner;
  readonly #handler: Http1Handler;
  readonly #request: Http1Request;
  readonly #body: RequestBody;
  readonly #abort = new AbortController();
  readonly #maxBodyBytes: number;
  #received = 0;
  /** The response's head, held until the first write or the end (as HTTP/1.1 does). */
  #head: HeaderField[] | null = null;
  #ended = false;

  constructor(
    owner: WebStreamOwner,
    id: number,
    head: WebStreamHead,
    fields: readonly HeaderField[],
    handler: Http1Handler,
    maxBodyBytes: number,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.#owner = owner;
    this.id = id;
    this.#handler = handler;
    this.#maxBodyBytes = maxBodyBytes;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
    this.#body = new RequestBody({
      onPull: () => this.#taken(),
      onFirstRead: () => {},
    });
    const mark = head.target.indexOf("?");
    this.#request = {
      method: head.method,
      target: head.target,
      path: mark < 0 ? head.target : head.target.slice(0, mark),
      query: mark < 0 ? "" : head.target.slice(mark + 1),
      headers: new Http1Headers(requestFields(fields)),
      httpVersion: "2",
      peer: owner.peer,
      body: this.#body,
      signal: this.#abort.signal,
    };
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Runs the handler; it reads the body as DATA arrives. */
  start(): void {
    this.running = true;
    const response = this.#response();
    this.#handler(this.#request, response).then(
      () => response.end(),
      (error) => {
        this.#owner.handlerFailed(error);
        // Answered as HTTP/1.1 answers it (a body over the limit is 413), or, once the
        // head is out, cut short; the client never sees what the error said inside.
        if (this.headersSent || this.#head !== null || this.#ended) return this.#reset(INTERNAL);
        const status = error instanceof Http1ProtocolError ? error.status : 500;
        const text = status === 500 ? "internal error\n" : `${error.message}\n`;
        response.writeHead(status, [["content-type", "text/plain; charset=utf-8"]]);
        return response.write(encoder.encode(text)).then(() => response.end());
      },
    ).catch(() => this.#reset(INTERNAL)).finally(() => {
      this.running = false;
      this.#owner.handlerDone(this);
    });
  }

  receive(b: Uint8Array, start: number, end: number): void {
    this.#received += end - start;
    if (this.#received > this.#maxBodyBytes) {
      this.#body.fail(
        new Http1ProtocolError(413, `request body over ${this.#maxBodyBytes} bytes`),
      );
      this.heldBytes = 0;
      return;
    }
    this.#body.push(b.subarray(start, end));
    this.heldBytes = this.#body.queuedBytes;
  }

  receiveEnd(): void {
    this.#body.finish();
  }

  cancel(): void {
    if (this.#abort.signal.aborted) return;
    this.#ended = true;
    this.#body.fail(new DOMException("stream closed", "AbortError"));
    this.heldBytes = 0;
    this.#abort.abort(new DOMException("stream closed", "AbortError"));
    const waiters = this.drainWaiters;
    this.drainWaiters = null;
    if (waiters) { for (const waiter of waiters) waiter(); }
  }

  abort(_code: Status, _message: string): void {
    // The connection is closing under the stream; the web protocols have no
    // status to send outside their bodies, so the stream just ends.
    this.cancel();
  }

  /** The handler took request bytes: they become window again. */
  #taken(): void {
    this.heldBytes = this.#body.queuedBytes;
    this.#owner.releaseBody(this);
  }

  #reset(code: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#owner.resetStream(this, code);
  }

  #sendHead(end: boolean): void {
    const head = this.#head ?? [[":status", "200"]];
    this.#head = null;
    this.#owner.sendHeaders(this, head, end);
  }

  #response(): Http1ResponseWriter {
    // deno-lint-ignore no-this-alias
    const stream = this;
    return {
      writeHead(status, headers) {
        if (stream.headersSent || stream.#head !== null) {
          throw new Error("the response head was already written");
        }
        const fields: HeaderField[] = [[":status", String(status)]];
        for (const [name, value] of headers) {
          const lower = name.toLowerCase();
          checkField(lower, value);
          if (!CONNECTION_SPECIFIC.has(lower)) fields.push([lower, value]);
        }
        stream.#head = fields;
      },
      write(chunk) {
        if (stream.#ended || stream.localClosed) return Promise.resolve();
        if (!stream.headersSent) stream.#sendHead(false);
        if (chunk.length === 0) return Promise.resolve();
        if (!stream.#owner.sendData(stream, chunk)) {
          // No room to hold the response: the stream is reset rather than the process grown.
          stream.#reset(INTERNAL);
          return Promise.resolve();
        }
        return Promise.resolve(stream.#owner.whenWritable(stream));
      },
      end() {
        if (stream.#ended || stream.localClosed) return Promise.resolve();
        stream.#ended = true;
        if (!stream.headersSent) stream.#sendHead(true);
        else stream.#owner.sendEnd(stream);
        return Promise.resolve();
      },
      get headSent() {
        return stream.headersSent;
      },
    };
  }
}

/** The regular fields of a request (pseudo-headers are in the head). */
function requestFields(fields: readonly HeaderField[]): (readonly [string, string])[] {
  const out: (readonly [string, string])[] = [];
  for (const field of fields) {
    if (field[0].charCodeAt(0) !== 58) out.push(field);
    else if (field[0] === ":authority") out.push(["host", field[1]]);
  }
  return out;
}

/** No CR, LF or NUL reaches the wire, as the HTTP/1.1 writer enforces; names are tokens. */
function checkField(name: string, value: string): void {
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) throw new TypeError(`bad header name ${name}`);
  if (/[\r\n\0]/.test(value)) throw new TypeError(`bad value for header ${name}`);
}
