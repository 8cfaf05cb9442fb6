/**
 * One hardened HTTP/1.1 server connection (RFC 9112) over a ByteSocket: the
 * HTTP/1.1 side of the gRPC port, for gRPC-Web and Connect. It knows neither
 * protocol; a handler gets each request and a writer.
 *
 * Requests are served one at a time, in order. While one is answered the
 * socket is paused, so a pipelining client cannot make us read ahead
 * without bound. Every wait has a bound, checked by `tick()` (driven by the
 * transport's one interval, like Http2Connection, not a timer per socket):
 *
 * - head: `headTimeoutMs` from the connection opening (first request) or
 *   from a request's first byte (later ones); 408 if part of a head came.
 *   A client sending one byte a second is cut off there (slowloris).
 * - idle: a kept-alive connection with no request for `keepAliveIdleMs`
 *   closes. So a later request's head must complete within keepAliveIdleMs
 *   + headTimeoutMs of the previous response.
 * - body: no body bytes for `bodyIdleTimeoutMs` while we are ready for them
 *   (not paused by a slow handler, 100 Continue sent): 408.
 * - writes: a write making no progress for `writeStallTimeoutMs` (a client
 *   that stopped reading) closes the connection.
 *
 * Refused requests (400, 408, 413, 417, 431, 501, 505) are answered with
 * `Connection: close`; then input is read and discarded for a short, bounded
 * linger before closing, so the client's unread bytes do not turn our close
 * into a reset that destroys the answer (RFC 9112 §9.6).
 *
 * `Expect: 100-continue` is honoured lazily: 100 Continue is sent when the
 * handler first reads the body, so a handler that answers without reading
 * (an error) spares the client the upload. A declared body over the limit
 * is refused 413 before 100 Continue and before reading any of it.
 * @module
 */
import type { ByteSocket } from "../native/socket.ts";
import { ByteQueue } from "./byte_queue.ts";
import { Http1ProtocolError, refusal } from "./errors.ts";
import { type RequestFraming, requestFraming } from "./framing.ts";
import { type HeadScan, newHeadScan, type ParsedHead, parseHead, scanHead } from "./head_parser.ts";
import { answerFailure, Exchange } from "./exchange.ts";
import { BODY_HIGH_WATER_BYTES } from "./request_body.ts";
import { OutputQueue } from "./output_queue.ts";
import { Http1Timers } from "./timers.ts";
import type { Http1ConnectionOptions, Http1Handler, Http1Limits } from "./types.ts";

/** How long a refused or closing connection keeps discarding input after its last write. */
export const LINGER_MS = 500;
/** Input discarded while lingering beyond which the connection closes at once. */
const LINGER_MAX_BYTES = 4 << 20;
/** Unparsed input held beyond a head and a body queue's worth: the client ignored our pause. */
const INPUT_SLACK_BYTES = 128 * 1024;

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

const enum Phase {
  /** Waiting for (the rest of) a request head. */
  Head,
  /** Reading a request body. */
  Body,
  /** A request is read; its response is not done. Input is held, the socket paused. */
  Hold,
  /** Closing: input discarded until the linger ends. */
  Linger,
  Closed,
}

/**
 * A server-side HTTP/1.1 connection; starts reading at construction.
 *
 * @example
 * ```ts
 * const connection = new Http1Connection(socket, sniffed, async (request, response) => {
 *   for await (const _ of request.body) { }
 *   response.writeHead(200, [["content-type", "text/plain"]]);
 *   await response.write(new TextEncoder().encode("ok"));
 *   await response.end();
 * }, limits);
 * setInterval(() => connection.tick(performance.now()), 250);
 * ```
 */
export class Http1Connection {
  readonly #socket: ByteSocket;
  readonly #handler: Http1Handler;
  readonly #limits: Http1Limits;
  readonly #options: Http1ConnectionOptions;
  readonly #input = new ByteQueue();
  readonly #closed = Promise.withResolvers<void>();
  #phase = Phase.Head;
  #scan: HeadScan = newHeadScan();
  #active: Exchange | null = null;
  #responses = 0;
  #draining = false;
  #paused = false;
  readonly #timers: Http1Timers;
  readonly #output = new OutputQueue((bytes) => this.#write(bytes));
  #discarded = 0;

  constructor(
    socket: ByteSocket,
    initial: Uint8Array,
    handler: Http1Handler,
    limits: Http1Limits,
    options: Http1ConnectionOptions = {},
  ) {
    this.#socket = socket;
    this.#handler = handler;
    this.#limits = limits;
    this.#options = options;
    this.#timers = new Http1Timers(limits, options.now ?? (() => performance.now()));
    socket.start((chunk) => this.#onData(chunk), () => this.close());
    if (initial.length > 0) this.#onData(initial);
  }

  /** Resolves once the socket is closed. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** True while waiting for a request with nothing of it received: safe to close. */
  get idle(): boolean {
    return this.#phase === Phase.Head && this.#active === null && this.#input.length === 0;
  }

  /** Graceful: no new requests; closes now if idle, else once the response in flight ends. */
  drain(): void {
    this.#draining = true;
    if (this.#phase === Phase.Head && this.#active === null) this.close();
  }

  /** Closes now; a request in flight sees its signal abort and its body fail. */
  close(): void {
    if (this.#phase === Phase.Closed) return;
    this.#phase = Phase.Closed;
    this.#input.clear();
    this.#socket.close();
    this.#active?.abort(new DOMException("HTTP/1.1 connection closed", "AbortError"));
    this.#active = null;
    this.#closed.resolve();
    this.#options.onClose?.();
  }

  /** Checks the timers at `now` (the clock of `options.now`). */
  tick(now: number): void {
    if (this.#phase === Phase.Closed) return;
    const timers = this.#timers;
    if (timers.writeStalled(now)) return this.close();
    if (this.#phase === Phase.Head) {
      if (timers.headExpired(now)) {
        if (this.#input.length > 0) this.#refuse(new Http1ProtocolError(408, "request timeout"));
        else this.close();
      } else if (timers.idleExpired(now)) this.close();
    } else if (this.#phase === Phase.Body && timers.bodyExpired(now)) {
      this.#bodyFailed(new Http1ProtocolError(408, "request body timeout"));
    } else if (this.#phase === Phase.Linger && timers.lingerExpired(now)) this.close();
  }

  // ------------------------------------------------------------------ input

  #onData(chunk: Uint8Array): void {
    if (this.#phase === Phase.Closed) return;
    if (this.#phase === Phase.Linger) {
      this.#discarded += chunk.length;
      if (this.#discarded > LINGER_MAX_BYTES) this.close();
      return;
    }
    this.#input.append(chunk);
    if (this.#phase === Phase.Body && this.#timers.bodyArmed) this.#timers.armBody();
    this.#process();
  }

  #process(): void {
    while (true) {
      if (this.#phase === Phase.Head) {
        if (!this.#readHead()) return;
      } else if (this.#phase === Phase.Body) {
        if (!this.#readBody()) return;
      } else {
        if (this.#phase === Phase.Hold && this.#input.length > 0) this.#pause();
        this.#checkHeld();
        return;
      }
    }
  }

  /** Parses a head if one is complete; false when waiting for more. */
  #readHead(): boolean {
    const input = this.#input;
    if (input.length === 0) return false;
    if (this.#draining) {
      this.close();
      return false;
    }
    // A later request's head is timed from its first byte; see the module doc.
    this.#timers.startHead();
    const { maxHeadBytes, maxHeaderCount, maxBodyBytes } = this.#limits;
    let head: ParsedHead;
    let framing: RequestFraming;
    try {
      const end = scanHead(input.view(), this.#scan, maxHeadBytes, maxHeaderCount);
      if (end < 0) return false;
      head = parseHead(input.view().subarray(0, end));
      input.consume(end);
      this.#scan = newHeadScan();
      framing = requestFraming(head, maxBodyBytes);
    } catch (error) {
      this.#refuse(error);
      return false;
    }
    this.#timers.headDone();
    this.#startRequest(head, framing);
    return true;
  }

  /** Decodes buffered body bytes; false when waiting (for input or for the handler). */
  #readBody(): boolean {
    const active = this.#active!;
    if (active.body.queuedBytes >= BODY_HIGH_WATER_BYTES) {
      // The handler is slow: its stall is not the client's, so the body timer stops.
      this.#timers.stopBody();
      this.#pause();
      this.#checkHeld();
      return false;
    }
    this.#resume();
    if (this.#input.length === 0) return false;
    let consumed: number;
    try {
      consumed = active.decoder.decode(this.#input.view(), (data) => active.body.push(data));
    } catch (error) {
      this.#bodyFailed(error);
      return false;
    }
    this.#input.consume(consumed);
    if (!active.decoder.done) return true;
    this.#timers.stopBody();
    this.#phase = Phase.Hold;
    active.body.finish();
    return true;
  }

  /** Input held while paused must stay bounded: a peer that ignores our pause is cut off. */
  #checkHeld(): void {
    if (this.#input.length > this.#limits.maxHeadBytes + INPUT_SLACK_BYTES) this.close();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#socket.pause();
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket.resume();
  }

  // --------------------------------------------------------------- requests

  #startRequest(head: ParsedHead, framing: RequestFraming): void {
    const exchange = new Exchange(head, framing, this.#socket.peer, this.#limits, {
      onPull: () => this.#onBodyPull(),
      onFirstRead: () => this.#sendContinue(),
      keepAlive: () => this.#mayKeepAlive(),
      send: (bytes) => this.#send(bytes),
    });
    this.#active = exchange;
    if (exchange.decoder.done) this.#phase = Phase.Hold;
    else {
      this.#phase = Phase.Body;
      // A client expecting 100 Continue waits for it: its silence is not a stall until then.
      if (framing.expectContinue) this.#timers.stopBody();
      else this.#timers.armBody();
    }
    // Not from inside #process: the handler's first reads call back into it.
    queueMicrotask(() => void this.#run(exchange));
  }

  async #run(exchange: Exchange): Promise<void> {
    const { writer } = exchange;
    try {
      await this.#handler(exchange.request, writer);
      await writer.end();
    } catch (error) {
      // Not ours any more (the connection closed or answered for it): nothing to do.
      if (this.#active !== exchange) return;
      this.#options.onHandlerError?.(error);
      // Once the head is out, the response cannot be completed correctly, only cut short.
      if (writer.headSent || !await answerFailure(writer)) return this.close();
    }
    if (this.#active !== exchange) return;
    const reusable = await writer.finished;
    if (this.#active === exchange) this.#afterResponse(reusable);
  }

  #mayKeepAlive(): boolean {
    const active = this.#active;
    const max = this.#limits.maxRequestsPerConnection;
    return active !== null && active.framing.keepAlive && active.decoder.done &&
      !this.#draining && (max === undefined || this.#responses + 1 < max);
  }

  #afterResponse(reusable: boolean): void {
    this.#active = null;
    this.#responses++;
    if (!reusable || this.#draining || this.#phase !== Phase.Hold) {
      // Input after a complete body that we will not answer: let it drain, then close.
      if (this.#phase === Phase.Hold && this.#input.length === 0) this.close();
      else this.#linger();
      return;
    }
    this.#phase = Phase.Head;
    this.#timers.awaitNextRequest(this.#input.length > 0);
    this.#resume();
    this.#process();
  }

  #onBodyPull(): void {
    if (this.#phase !== Phase.Body) return;
    const active = this.#active!;
    if (active.body.queuedBytes >= BODY_HIGH_WATER_BYTES) return;
    if (
      !this.#timers.bodyArmed && (active.continueSent || !active.framing.expectContinue)
    ) {
      this.#timers.armBody();
    }
    this.#process();
  }

  #sendContinue(): void {
    const active = this.#active;
    if (active === null || !active.framing.expectContinue || active.continueSent) return;
    if (active.writer.headSent || this.#phase !== Phase.Body) return;
    active.continueSent = true;
    this.#timers.armBody();
    this.#send(CONTINUE).catch(() => {});
  }

  // ---------------------------------------------------------------- failures

  /** The body failed (bad framing, too large, stalled): answer if we still can, then close. */
  #bodyFailed(error: unknown): void {
    const active = this.#active!;
    active.abort(error);
    if (active.writer.preempt()) {
      this.#active = null;
      this.#refuse(error);
    } else {
      this.close();
    }
  }

  /** Answers `error`'s status with `Connection: close`, then lingers and closes. */
  #refuse(error: unknown): void {
    this.#linger();
    this.#timers.lingerFor(Infinity);
    this.#send(refusal(error)).then(
      () => this.#timers.lingerFor(LINGER_MS),
      () => this.close(),
    );
  }

  /** Stops serving: input is discarded (not paused, so it drains) until the linger ends. */
  #linger(): void {
    if (this.#phase === Phase.Closed) return;
    this.#phase = Phase.Linger;
    this.#input.clear();
    this.#timers.lingerFor(LINGER_MS);
    this.#resume();
  }

  // ----------------------------------------------------------------- output

  #send(bytes: Uint8Array): Promise<void> {
    if (this.#phase === Phase.Closed) return Promise.reject(new Error("connection closed"));
    return this.#output.send(bytes);
  }

  /** One socket write of what a turn sent (output_queue.ts), timed for the stall bound. */
  #write(bytes: Uint8Array): Promise<void> {
    if (this.#phase === Phase.Closed) return Promise.reject(new Error("connection closed"));
    this.#timers.writeStarted();
    return this.#socket.write(bytes).then(
      () => {
        this.#timers.writeEnded();
      },
      (error) => {
        this.#timers.writeEnded();
        this.close();
        throw error;
      },
    );
  }
}
