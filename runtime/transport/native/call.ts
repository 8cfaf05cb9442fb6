/**
 * One gRPC call on one HTTP/2 stream: request messages out of DATA frames,
 * responses into them, status into trailers. The connection owns the
 * HTTP/2 side (windows, frames); this owns the gRPC side.
 * @module
 */
import { Status } from "../../core/errors.ts";
import type { Metadata } from "../../core/metadata.ts";
import type { PeerCertificate } from "../../core/peer.ts";
import type { CallStatus, Route, TransportCall } from "../types.ts";
import { compress, decompress, type Encoding, type InflateGate } from "./compression.ts";
import type { MemoryBudget } from "../../util/memory_budget.ts";
import { appendMetadata, encodeStatusMessage, metadataFromFields } from "./grpc_wire.ts";
import type { HeaderField } from "./hpack/mod.ts";

/** What a call needs from its connection. */
export interface CallOwner {
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  readonly peer: string;
  readonly peerCertificate: PeerCertificate | null;
  /** The process's memory budget: inflated requests are counted there. */
  readonly memory: MemoryBudget;
  /** Paces inflation so that it cannot take the event loop. */
  readonly inflation: InflateGate;
  /** Queues response HEADERS (or Trailers-Only when `end`). */
  sendHeaders(call: NativeCall, fields: readonly HeaderField[], end: boolean): void;
  /**
   * Queues one message (flag 1 = compressed) as DATA, within the peer's
   * windows; false when it cannot be held until they open (memory budget).
   */
  sendMessage(call: NativeCall, body: Uint8Array, flag: number): boolean;
  /** Queues trailers after all pending DATA, ending the stream. */
  sendTrailers(call: NativeCall, fields: readonly HeaderField[]): void;
  /** Request bytes were consumed: the client may send more. */
  release(call: NativeCall): void;
  /**
   * Asks to hold `bytes` more for `call` (a message being assembled, or a
   * request waiting for dispatch); false when the connection already holds
   * what connectionWindowBytes allows.
   */
  reserve(call: NativeCall, bytes: number): boolean;
  /** Gives back everything `call` reserved. */
  unreserve(call: NativeCall): void;
  /** The pipeline ended a call it was given: its handler has returned. */
  handlerDone(call: NativeCall): void;
  /** Resolves when the call's queued output is low again, or at once if it is. */
  whenWritable(call: NativeCall): Promise<void> | void;
}

const TOO_MUCH_HELD =
  "Received a message while this connection holds as much request data as connectionWindowBytes allows";
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
const OK_HEADERS: readonly HeaderField[] = Object.freeze([
  [":status", "200"],
  ["content-type", "application/grpc"],
]);
const GZIP_HEADERS: readonly HeaderField[] = Object.freeze([
  ...OK_HEADERS,
  ["grpc-encoding", "gzip"],
]);
const OK_TRAILERS: readonly HeaderField[] = Object.freeze([["grpc-status", "0"]]);

/** Message prefix: 1 flag byte + 4 length bytes (PROTOCOL-HTTP2.md, Length-Prefixed-Message). */
const PREFIX_BYTES = 5;

/** A call on the native transport. The connection drives the HTTP/2 fields. */
export class NativeCall implements TransportCall {
  readonly route: Route;
  readonly deadline: number;
  request: Uint8Array | null = null;

  // --- HTTP/2 stream state, owned by the connection.
  readonly id: number;
  sendWindow: number;
  recvWindow: number;
  /** Framed DATA waiting for window, and the offset already sent of the first. */
  pending: Uint8Array[] = [];
  pendingOffset = 0;
  pendingBytes = 0;
  /** Trailers to send once `pending` is empty. */
  trailers: readonly HeaderField[] | null = null;
  headersSent = false;
  remoteClosed = false;
  localClosed = false;
  /** Received DATA bytes not yet given back as window. */
  unreleased = 0;
  /** Released bytes not yet announced in a stream WINDOW_UPDATE. */
  windowCredit = 0;
  /** Wire bytes of the messages queued for the handler. */
  heldBytes = 0;
  /** The part of `heldBytes` the connection has counted (see FlowControl.release). */
  heldCounted = 0;
  /** Bytes reserved for a message being assembled or a request awaiting dispatch. */
  reservedBytes = 0;
  /** The part of `pendingBytes` counted in the memory budget (see FlowControl.send). */
  parkedBytes = 0;
  /** The pipeline has the call and has not ended it: a handler is running. */
  running = false;
  /** The stream closed while the handler was still running (it still counts; see connection). */
  detached = false;
  /** Waiters for `pendingBytes` to fall; see CallOwner.whenWritable. */
  drainWaiters: (() => void)[] | null = null;

  readonly #owner: CallOwner;
  readonly #fields: readonly HeaderField[];
  readonly #requestEncoding: Encoding;
  #responseEncoding: Encoding;
  readonly #acceptsGzip: boolean;
  /** Whether messages are compressed when #responseEncoding is not identity. */
  #compressResponses = true;
  /** The code the client was sent (or, after a reset, the one it saw: see cancel). */
  #sentCode: Status = Status.OK;
  /** Whether the request message last handed over was compressed on the wire. */
  #lastCompressed = false;
  /** Bytes of inflated requests counted in the memory budget. */
  #inflatedBytes = 0;
  #metadata: Metadata | null = null;
  #abort: AbortController | null = null;
  #aborted = false;
  #ended = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the pipeline has the call; until then messages are collected. */
  #dispatched = false;
  #onDispatch: ((call: NativeCall) => void) | null;

  // Message assembly: a message may span DATA frames, and a frame may hold several.
  /** A prefix split across DATA frames; most arrive whole and never need it. */
  #header: Uint8Array | null = null;
  #headerFill = 0;
  #body: Uint8Array | null = null;
  #bodyFill = 0;
  #compressed = false;
  /** The unary request was compressed: inflated at dispatch. */
  #requestCompressed = false;
  /** Whole messages not yet taken, as on the wire, with their wire size (for window release). */
  #queue: Uint8Array[] | null = null;
  #queueWire: number[] | null = null;
  /** Which of the queued messages are compressed; null while none has been. */
  #queueCompressed: boolean[] | null = null;
  #waiter: (() => void) | null = null;

  constructor(
    owner: CallOwner,
    id: number,
    route: Route,
    fields: readonly HeaderField[],
    options: {
      sendWindow: number;
      recvWindow: number;
      deadline: number;
      requestEncoding: Encoding;
      responseEncoding: Encoding;
      acceptsGzip?: boolean;
      onDispatch: (call: NativeCall) => void;
    },
  ) {
    this.#owner = owner;
    this.id = id;
    this.route = route;
    this.#fields = fields;
    this.sendWindow = options.sendWindow;
    this.recvWindow = options.recvWindow;
    this.deadline = options.deadline;
    this.#requestEncoding = options.requestEncoding;
    this.#responseEncoding = options.responseEncoding;
    this.#acceptsGzip = options.acceptsGzip ?? false;
    this.#onDispatch = options.onDispatch;
  }

  /** Arms the deadline; streaming requests start the handler now, unary ones at END_STREAM. */
  start(): void {
    if (this.deadline !== Infinity) {
      const ms = Math.max(0, this.deadline - Date.now());
      this.#timer = setTimeout(() => this.#expire(), Math.min(ms, 2 ** 31 - 1));
    }
    const kind = this.route.kind;
    if (kind === "client_stream" || kind === "bidi_stream") this.#dispatch();
  }

  get peer(): string {
    return this.#owner.peer;
  }

  get peerCertificate(): PeerCertificate | null {
    return this.#owner.peerCertificate;
  }

  get metadata(): Metadata {
    return this.#metadata ??= metadataFromFields(this.#fields);
  }

  get signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController();
      if (this.#aborted) this.#abort.abort(cancelled());
    }
    return this.#abort.signal;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Whether the request message last handed to the pipeline was compressed on the wire. */
  get requestCompressed(): boolean {
    return this.#lastCompressed;
  }

  /**
   * Compress the following response messages (if the client accepts gzip)
   * or not. Before the response headers, this also picks their
   * grpc-encoding; after, it only sets each message's flag.
   */
  compressResponses(enabled: boolean): void {
    this.#compressResponses = enabled;
    if (
      enabled && !this.headersSent && this.#responseEncoding === "identity" && this.#acceptsGzip
    ) {
      this.#responseEncoding = "gzip";
    }
  }

  // ------------------------------------------------------------ requests

  /** DATA payload for this stream, padding removed. */
  receive(data: Uint8Array, start: number, end: number): void {
    let p = start;
    while (p < end && !this.#ended) {
      if (this.#body === null) {
        let h = data, at = p;
        if (this.#headerFill > 0 || end - p < PREFIX_BYTES) {
          const header = this.#header ??= new Uint8Array(PREFIX_BYTES);
          while (this.#headerFill < PREFIX_BYTES && p < end) header[this.#headerFill++] = data[p++];
          if (this.#headerFill < PREFIX_BYTES) break;
          h = header;
          at = 0;
        } else p += PREFIX_BYTES;
        const length = ((h[at + 1] << 24) | (h[at + 2] << 16) | (h[at + 3] << 8) | h[at + 4]) >>> 0;
        this.#compressed = (h[at] & 1) === 1;
        if (this.#compressed && this.#requestEncoding === "identity") {
          this.#fail(Status.INTERNAL, "Received compressed message but no grpc-encoding was sent");
          return;
        }
        if (length > this.#owner.maxReceiveMessageBytes) {
          this.#fail(
            Status.RESOURCE_EXHAUSTED,
            `Received message larger than max (${length} vs ${this.#owner.maxReceiveMessageBytes})`,
          );
          return;
        }
        // A whole message already in this frame needs no assembly buffer.
        if (end - p >= length) {
          this.#message(data.slice(p, p + length));
          p += length;
          this.#headerFill = 0;
          continue;
        }
        // Held across frames: counted against what the connection may hold (issue 19:
        // prefixes declaring large lengths let one connection make svc hold 579 MiB).
        if (!this.#owner.reserve(this, length + PREFIX_BYTES)) {
          this.#fail(Status.RESOURCE_EXHAUSTED, TOO_MUCH_HELD);
          return;
        }
        this.#body = new Uint8Array(length);
        this.#bodyFill = 0;
      }
      const take = Math.min(end - p, this.#body.length - this.#bodyFill);
      this.#body.set(data.subarray(p, p + take), this.#bodyFill);
      this.#bodyFill += take;
      p += take;
      if (this.#bodyFill === this.#body.length) {
        const body = this.#body;
        this.#body = null;
        this.#headerFill = 0;
        this.#message(body);
      }
    }
  }

  /** The client half-closed (END_STREAM). */
  receiveEnd(): void {
    if (this.#ended) return;
    if (this.#headerFill > 0 || this.#body !== null) {
      this.#fail(Status.INTERNAL, "Request stream ended in the middle of a message");
      return;
    }
    if (!this.#dispatched) {
      const kind = this.route.kind === "unary" ? "unary" : "server streaming";
      if (this.request === null) {
        this.#fail(
          Status.UNIMPLEMENTED,
          `Received no request message for ${kind} method ${this.route.path}`,
        );
        return;
      }
      this.#dispatch();
    }
    this.#wake();
  }

  /**
   * A whole message arrived. Compressed ones stay compressed until the
   * pipeline takes them (issue 19): what waits is then flow-controlled wire
   * bytes, and inflation is paced by the owner's gate.
   */
  #message(message: Uint8Array): void {
    const wire = message;
    if (this.route.kind === "unary" || this.route.kind === "server_stream") {
      // Held until END_STREAM dispatches it; a message assembled across frames is reserved already.
      if (this.reservedBytes === 0 && !this.#owner.reserve(this, wire.length + PREFIX_BYTES)) {
        this.#fail(Status.RESOURCE_EXHAUSTED, TOO_MUCH_HELD);
        return;
      }
      if (this.request !== null) {
        const kind = this.route.kind === "unary" ? "unary" : "server streaming";
        this.#fail(
          Status.UNIMPLEMENTED,
          `Received a second request message for ${kind} method ${this.route.path}`,
        );
        return;
      }
      this.request = message;
      this.#requestCompressed = this.#compressed;
      return;
    }
    const wireBytes = wire.length + PREFIX_BYTES;
    // From here flow control holds it: the queued bytes are not given back as window.
    if (this.reservedBytes > 0) this.#owner.unreserve(this);
    (this.#queue ??= []).push(message);
    (this.#queueWire ??= []).push(wireBytes);
    if (this.#compressed || this.#queueCompressed !== null) {
      (this.#queueCompressed ??= new Array(this.#queue.length - 1).fill(false)).push(
        this.#compressed,
      );
    }
    this.heldBytes += wireBytes;
    this.#wake();
  }

  requests(): AsyncIterable<Uint8Array> {
    return { [Symbol.asyncIterator]: () => this.#iterator() };
  }

  #iterator(): AsyncIterator<Uint8Array> {
    const next = async (): Promise<IteratorResult<Uint8Array, undefined>> => {
      while (true) {
        if (this.#queue !== null && this.#queue.length > 0) {
          let message: Uint8Array | null = this.#queue.shift()!;
          const compressed = this.#queueCompressed?.shift() ?? false;
          this.heldBytes -= this.#queueWire!.shift()!;
          this.#owner.release(this);
          // The previous message's inflated bytes: the handler has moved on from it.
          this.#giveInflated();
          if (compressed) {
            const wire = message;
            message = await this.#owner.inflation.run(() => this.#inflate(wire));
            if (message === null) this.signal.throwIfAborted();
          }
          this.#lastCompressed = compressed;
          return { value: message!, done: false };
        }
        if (this.#aborted) this.signal.throwIfAborted();
        if (this.remoteClosed || this.#ended) return DONE;
        await new Promise<void>((resolve) => this.#waiter = resolve);
      }
    };
    return { next, return: () => Promise.resolve(DONE) };
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  #dispatch(): void {
    if (this.#dispatched) return;
    this.#dispatched = true;
    const wire = this.request;
    if (this.#requestCompressed && wire !== null) {
      // Inflated now, still holding the reservation of its compressed bytes.
      const inflated = this.#owner.inflation.run(() => this.#inflate(wire));
      if (inflated instanceof Promise) inflated.then((message) => this.#handOver(message));
      else this.#handOver(inflated);
      return;
    }
    this.#handOver(wire);
  }

  /** Gives the call to the pipeline, with its request (null for streaming calls). */
  #handOver(request: Uint8Array | null): void {
    if (this.reservedBytes > 0) this.#owner.unreserve(this);
    if (this.#ended) return; // failed while inflating, or cancelled while waiting to
    this.request = request;
    this.#lastCompressed = this.#requestCompressed;
    this.running = true;
    const onDispatch = this.#onDispatch!;
    this.#onDispatch = null;
    onDispatch(this);
  }

  /**
   * Inflates one request message, counting it in the memory budget until
   * the call ends or the next message is taken. Null when the call has ended
   * (here, or while the message waited for the gate).
   */
  #inflate(wire: Uint8Array): Uint8Array | null {
    if (this.#ended) return null;
    const max = this.#owner.maxReceiveMessageBytes;
    let message: Uint8Array;
    try {
      message = decompress(this.#requestEncoding, wire, max);
    } catch (error) {
      const tooLarge = error instanceof RangeError;
      this.#fail(
        tooLarge ? Status.RESOURCE_EXHAUSTED : Status.INTERNAL,
        tooLarge
          ? `Received message that decompresses to a size larger than ${max}`
          : "Failed to decompress message",
      );
      return null;
    }
    if (!this.#owner.memory.take(message.length)) {
      this.#fail(Status.RESOURCE_EXHAUSTED, memoryFull("request", message.length));
      return null;
    }
    this.#inflatedBytes += message.length;
    return message;
  }

  #giveInflated(): void {
    if (this.#inflatedBytes === 0) return;
    this.#owner.memory.give(this.#inflatedBytes);
    this.#inflatedBytes = 0;
  }

  // ------------------------------------------------------------ responses

  sendHeaders(headers: Metadata): void {
    if (this.headersSent || this.#ended) return;
    const fields = this.#responseHeaders().slice();
    appendMetadata(fields, headers);
    this.#owner.sendHeaders(this, fields, false);
  }

  write(message: Uint8Array): Promise<void> | void {
    if (this.#ended) return;
    if (this.#tooLarge(message)) return;
    if (!this.headersSent) this.#owner.sendHeaders(this, this.#responseHeaders(), false);
    if (!this.#send(message)) return;
    return this.#owner.whenWritable(this);
  }

  /** Ends the call; returns the code the client was sent, which the transport may have chosen. */
  end(status: CallStatus, response?: Uint8Array): Status {
    if (this.running) {
      this.running = false;
      this.#owner.handlerDone(this);
    }
    if (this.#ended) return this.#sentCode;
    if (status.code === Status.OK && response !== undefined) {
      if (this.#tooLarge(response)) return this.#sentCode;
      if (!this.headersSent) this.#owner.sendHeaders(this, this.#responseHeaders(), false);
      if (!this.#send(response)) return this.#sentCode;
    }
    this.#finish(status);
    return status.code;
  }

  /** Fails the call if `message` exceeds the send limit; the wording is grpc-js's. */
  #tooLarge(message: Uint8Array): boolean {
    const max = this.#owner.maxSendMessageBytes;
    if (message.length <= max) return false;
    this.#fail(
      Status.RESOURCE_EXHAUSTED,
      `Sent message larger than max (${message.length + PREFIX_BYTES} vs. ${max})`,
    );
    return true;
  }

  /** Shared and frozen: copy before adding to it. */
  #responseHeaders(): readonly HeaderField[] {
    return this.#responseEncoding === "identity" ? OK_HEADERS : GZIP_HEADERS;
  }

  /** Sends one message; false (and the call failed) when it cannot be held. */
  #send(message: Uint8Array): boolean {
    const sent = this.#responseEncoding === "identity" || !this.#compressResponses
      ? this.#owner.sendMessage(this, message, 0)
      : this.#owner.sendMessage(this, compress(this.#responseEncoding, message), 1);
    if (!sent) this.#fail(Status.RESOURCE_EXHAUSTED, memoryFull("response", message.length));
    return sent;
  }

  /** Ends the call with `status`, as trailers or as Trailers-Only. */
  #finish(status: CallStatus): void {
    this.#ended = true;
    this.#sentCode = status.code;
    clearTimeout(this.#timer);
    this.#giveInflated();
    const trailersOnly = !this.headersSent;
    // Most calls end OK with nothing to add: one shared list, no allocation.
    if (!trailersOnly && status.code === Status.OK && !status.message && !status.trailers) {
      this.#owner.sendTrailers(this, OK_TRAILERS);
      this.#wake();
      return;
    }
    const fields: HeaderField[] = trailersOnly ? this.#responseHeaders().slice() : [];
    fields.push(["grpc-status", String(status.code)]);
    if (status.message) fields.push(["grpc-message", encodeStatusMessage(status.message)]);
    if (status.trailers) appendMetadata(fields, status.trailers);
    if (trailersOnly) this.#owner.sendHeaders(this, fields, true);
    else this.#owner.sendTrailers(this, fields);
    this.#wake();
  }

  /** Ends the call from the transport side (bad input, limits, deadline). */
  #fail(code: Status, message: string): void {
    if (this.#ended) return;
    this.#finish({ code, message, trailers: null });
    this.cancel();
  }

  /** The connection is closing: ends the call with `code` in its trailers, then cancels it. */
  abort(code: Status, message: string): void {
    this.#fail(code, message);
    this.cancel();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#fail(Status.DEADLINE_EXCEEDED, "Deadline exceeded");
  }

  /** The stream is gone (RST_STREAM, connection closed): abort whatever is running. */
  cancel(): void {
    clearTimeout(this.#timer);
    if (this.#aborted) return;
    this.#aborted = true;
    // Nothing was sent: the client's own deadline (its timer reset the stream) or a cancel.
    if (!this.#ended) {
      this.#sentCode = this.deadline <= Date.now() ? Status.DEADLINE_EXCEEDED : Status.CANCELLED;
    }
    this.#ended = true;
    this.#giveInflated();
    this.#abort?.abort(cancelled());
    this.#wake();
    const waiters = this.drainWaiters;
    this.drainWaiters = null;
    if (waiters) { for (const waiter of waiters) waiter(); }
  }
}

function memoryFull(what: string, bytes: number): string {
  return `The server's memory budget has no room for this ${what} (${bytes} bytes) now; ` +
    "try again later";
}

function cancelled(): DOMException {
  return new DOMException("call cancelled", "AbortError");
}
