/**
 * The request half of a call on the native transport: gRPC messages out of
 * DATA frames (a message may span frames, a frame may hold several), held
 * within what the connection and the process's memory budget allow,
 * inflated when taken, and handed to the pipeline. NativeCall (call.ts)
 * adds the response half; the connection drives both.
 * @module
 */
import { Status } from "../../core/errors.ts";
import type { Route } from "../types.ts";
import { decompress, type Encoding, type InflateGate } from "./compression.ts";
import type { MemoryBudget } from "../../util/memory_budget.ts";
import { copyMessage, copyToSlab, currentSlab, SMALL_MESSAGE_BYTES } from "./message_copies.ts";

/** What the request half needs from its connection. */
export interface RequestOwner {
  readonly maxReceiveMessageBytes: number;
  /** The process's memory budget: inflated requests are counted there. */
  readonly memory: MemoryBudget;
  /** Paces inflation so that it cannot take the event loop. */
  readonly inflation: InflateGate;
  /** `performance.now()` at the connection's last socket read; 0 when reads are not timed. */
  readonly lastReadAt: number;
  /** Request bytes were consumed: the client may send more. */
  release(call: CallRequests): void;
  /**
   * Asks to hold `bytes` more for `call` (a message being assembled, or a
   * request waiting for dispatch); false when the connection already holds
   * what connectionWindowBytes allows, or the memory budget is full.
   */
  reserve(call: CallRequests, bytes: number): boolean;
  /** Gives back everything `call` reserved. */
  unreserve(call: CallRequests): void;
}

/** Message prefix: 1 flag byte + 4 length bytes (PROTOCOL-HTTP2.md, Length-Prefixed-Message). */
export const PREFIX_BYTES = 5;

const TOO_MUCH_HELD =
  "Received a message while this connection holds as much request data as connectionWindowBytes allows";
/**
 * Taken request bytes gathered before their window is given back: far
 * below the smallest window svc allows (65,535 bytes, server.http2), so a
 * client never waits on it; the rest goes back when the queue runs dry.
 */
const RELEASE_BATCH_BYTES = 4096;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
/** A queue entry's start for a buffer that is one message, without its prefix (see #queue). */
const WHOLE = -1;
/** ...one compressed message. */
const WHOLE_COMPRESSED = -2;

/** The status message of a call the memory budget had no room for. */
export function memoryFull(what: string, bytes: number): string {
  return `The server's memory budget has no room for this ${what} (${bytes} bytes) now; ` +
    "try again later";
}

/** The request half; `O` is what the whole call needs from its connection. */
export abstract class CallRequests<O extends RequestOwner = RequestOwner> {
  readonly route: Route;
  /** The request of a unary or server-streaming call, once dispatched. */
  request: Uint8Array | null = null;
  /** The client half-closed (END_STREAM). */
  remoteClosed = false;
  /** Wire bytes of the messages queued for the handler. */
  heldBytes = 0;
  /** The part of `heldBytes` the connection has counted (see FlowControl.release). */
  heldCounted = 0;
  /** Bytes reserved for a message being assembled or a request awaiting dispatch. */
  reservedBytes = 0;
  /** The pipeline has the call and has not ended it: a handler is running. */
  running = false;
  /** The connection's read that let the call start (see TransportCall.receivedAt). */
  receivedAt = 0;

  protected readonly owner: O;
  /** The call has its status (sent, or the stream is gone): nothing more is read or sent. */
  protected finished = false;
  /** The stream is gone or the call was failed: its signal aborts (TransportCall.aborted). */
  aborted = false;

  readonly #requestEncoding: Encoding;
  /** Whether the request message last handed over was compressed on the wire. */
  #lastCompressed = false;
  /** Bytes of inflated requests counted in the memory budget. */
  #inflatedBytes = 0;
  /** Set once the pipeline has the call; until then messages are collected. */
  #dispatched = false;
  // Typed loosely here: NativeCall passes a callback that takes itself.
  #onDispatch: ((call: never) => void) | null;

  // Message assembly: a message may span DATA frames, and a frame may hold several.
  /** A prefix split across DATA frames; most arrive whole and never need it. */
  #header: Uint8Array | null = null;
  #headerFill = 0;
  #body: Uint8Array | null = null;
  #bodyFill = 0;
  #compressed = false;
  /** The unary request was compressed: inflated at dispatch. */
  #requestCompressed = false;
  /** A client or bidi stream: its messages are queued for the handler. */
  readonly #streamed: boolean;
  /**
   * Whole messages not yet taken, as on the wire (each holds its length +
   * PREFIX_BYTES of window), from `#head` on: an index rather than shift(),
   * which moves the array per message; emptied once all are taken.
   *
   * Three entries per run of messages: a buffer, a start and an end. The
   * messages that arrived whole and in a row in one DATA frame are copied
   * once, prefixes included, as `buffer[start, end)`; taking one cuts its
   * view and moves `start` past it. A message assembled across frames is a
   * buffer of its own, start WHOLE or WHOLE_COMPRESSED and end its length.
   * A client stream's messages wait here while the handler works through
   * the ones before them, which takes scavenges: a view and a queue slot
   * per message outlived two of them and were promoted (bench/README.md,
   * "Issue 20, session 16").
   */
  #queue: (Uint8Array | number)[] | null = null;
  #head = 0;
  /** Wire bytes taken since the last FlowControl.release (see #take). */
  #taken = 0;
  #waiter: (() => void) | null = null;

  constructor(
    owner: O,
    route: Route,
    requestEncoding: Encoding,
    onDispatch: (call: never) => void,
  ) {
    this.owner = owner;
    this.route = route;
    this.#streamed = route.kind === "client_stream" || route.kind === "bidi_stream";
    this.#requestEncoding = requestEncoding;
    this.#onDispatch = onDispatch;
  }

  /** Aborts when the call can no longer complete (see TransportCall.signal). */
  abstract get signal(): AbortSignal;

  /** Ends the call from the transport side with `code` (bad input, limits). */
  protected abstract fail(code: Status, message: string): void;

  get ended(): boolean {
    return this.finished;
  }

  /** Whether the request message last handed to the pipeline was compressed on the wire. */
  get requestCompressed(): boolean {
    return this.#lastCompressed;
  }

  // ------------------------------------------------------------ requests

  /** DATA payload for this stream, padding removed. */
  receive(data: Uint8Array, start: number, end: number): void {
    let p = start;
    // Whole messages in a row, prefixes included, queued as one copy below.
    let runStart = -1;
    let runEnd = -1;
    while (p < end && !this.finished) {
      if (this.#body === null) {
        let h = data, at = p;
        if (this.#headerFill > 0 || end - p < PREFIX_BYTES) {
          const header = this.#header ??= new Uint8Array(PREFIX_BYTES);
          while (this.#headerFill < PREFIX_BYTES && p < end) header[this.#headerFill++] = data[p++];
          if (this.#headerFill < PREFIX_BYTES) break;
          h = header;
          at = 0;
        } else p += PREFIX_BYTES;
        const length = prefixLength(h, at);
        this.#compressed = (h[at] & 1) === 1;
        if (this.#compressed && this.#requestEncoding === "identity") {
          this.fail(Status.INTERNAL, "Received compressed message but no grpc-encoding was sent");
          return;
        }
        if (length > this.owner.maxReceiveMessageBytes) {
          this.fail(
            Status.RESOURCE_EXHAUSTED,
            `Received message larger than max (${length} vs ${this.owner.maxReceiveMessageBytes})`,
          );
          return;
        }
        // A whole message already in this frame needs no assembly buffer.
        if (end - p >= length) {
          if (this.#streamed && h === data) {
            if (runStart < 0) runStart = p - PREFIX_BYTES;
            p += length;
            runEnd = p;
            continue;
          }
          // The socket reuses its read buffer once the frame is handled: copy.
          this.#message(copyMessage(data, p, length));
          p += length;
          this.#headerFill = 0;
          continue;
        }
        // Held across frames: counted against what the connection may hold (issue 19:
        // prefixes declaring large lengths let one connection make svc hold 579 MiB).
        if (!this.owner.reserve(this, length + PREFIX_BYTES)) {
          this.fail(Status.RESOURCE_EXHAUSTED, TOO_MUCH_HELD);
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
    if (runStart >= 0 && !this.finished) this.#queueRun(data, runStart, runEnd);
  }

  /** The client half-closed (END_STREAM). */
  receiveEnd(): void {
    if (this.finished) return;
    if (this.#headerFill > 0 || this.#body !== null) {
      this.fail(Status.INTERNAL, "Request stream ended in the middle of a message");
      return;
    }
    if (!this.#dispatched) {
      const kind = this.route.kind === "unary" ? "unary" : "server streaming";
      if (this.request === null) {
        this.fail(
          Status.UNIMPLEMENTED,
          `Received no request message for ${kind} method ${this.route.path}`,
        );
        return;
      }
      this.dispatch();
    }
    this.wake();
  }

  /**
   * A whole message arrived. Compressed ones stay compressed until the
   * pipeline takes them (issue 19): what waits is then flow-controlled wire
   * bytes, and inflation is paced by the owner's gate.
   */
  #message(message: Uint8Array): void {
    if (this.#streamed) {
      this.#enqueue(message, this.#compressed ? WHOLE_COMPRESSED : WHOLE, message.length);
      return;
    }
    // Held until END_STREAM dispatches it; a message assembled across frames is reserved already.
    if (this.reservedBytes === 0 && !this.owner.reserve(this, message.length + PREFIX_BYTES)) {
      this.fail(Status.RESOURCE_EXHAUSTED, TOO_MUCH_HELD);
      return;
    }
    if (this.request !== null) {
      const kind = this.route.kind === "unary" ? "unary" : "server streaming";
      this.fail(
        Status.UNIMPLEMENTED,
        `Received a second request message for ${kind} method ${this.route.path}`,
      );
      return;
    }
    this.request = message;
    this.#requestCompressed = this.#compressed;
  }

  /** Queues `data[start, end)`, whole prefixed messages, as one copy (the read buffer is reused). */
  #queueRun(data: Uint8Array, start: number, end: number): void {
    const bytes = end - start;
    if (bytes > SMALL_MESSAGE_BYTES) {
      this.#enqueue(data.slice(start, end), 0, bytes);
      return;
    }
    const offset = copyToSlab(data, start, bytes);
    this.#enqueue(currentSlab(), offset, offset + bytes);
  }

  /** Adds an entry to #queue (see there). */
  #enqueue(buffer: Uint8Array, start: number, end: number): void {
    // From here flow control holds it: the queued bytes are not given back as window.
    if (this.reservedBytes > 0) this.owner.unreserve(this);
    (this.#queue ??= []).push(buffer, start, end);
    this.heldBytes += start < 0 ? end + PREFIX_BYTES : end - start;
    this.wake();
  }

  /** Whether the message at `#head` is compressed. */
  #headCompressed(queue: (Uint8Array | number)[]): boolean {
    const start = queue[this.#head + 1] as number;
    if (start < 0) return start === WHOLE_COMPRESSED;
    return ((queue[this.#head] as Uint8Array)[start] & 1) === 1;
  }

  requests(): AsyncIterable<Uint8Array> {
    return { [Symbol.asyncIterator]: () => this.#iterator() };
  }

  /**
   * The next queued message if it can be handed over now (uncompressed),
   * else undefined: the pipeline's fast path (dispatch.ts), which saves a
   * promise and a microtask per message of a client stream.
   */
  #poll(): Uint8Array | undefined {
    const queue = this.#queue;
    if (queue === null || this.#head === queue.length) return undefined;
    if (this.#headCompressed(queue)) return undefined;
    return this.#take(queue, false);
  }

  /**
   * Takes the message at `#head`. Its window goes back once the handler
   * has it, gathered over a few messages (one FlowControl.release per
   * RELEASE_BATCH_BYTES, and when the queue runs dry): a client then waits
   * for the handler, and small messages do not cost a release each.
   */
  #take(queue: (Uint8Array | number)[], compressed: boolean): Uint8Array {
    const head = this.#head;
    const buffer = queue[head] as Uint8Array;
    const start = queue[head + 1] as number;
    let message = buffer;
    if (start < 0) this.#head = head + 3;
    else {
      const from = start + PREFIX_BYTES;
      const to = from + prefixLength(buffer, start);
      message = buffer.subarray(from, to);
      if (to === queue[head + 2]) this.#head = head + 3;
      else queue[head + 1] = to;
    }
    const wireBytes = message.length + PREFIX_BYTES;
    this.heldBytes -= wireBytes;
    this.#taken += wireBytes;
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
      this.#taken = 0;
      this.owner.release(this);
    } else if (this.#taken >= RELEASE_BATCH_BYTES) {
      this.#taken = 0;
      this.owner.release(this);
    }
    // The previous message's inflated bytes: the handler has moved on from it.
    this.giveInflated();
    this.#lastCompressed = compressed;
    return message;
  }

  #iterator(): AsyncIterator<Uint8Array> & { poll(): Uint8Array | undefined } {
    const next = async (): Promise<IteratorResult<Uint8Array, undefined>> => {
      while (true) {
        const queue = this.#queue;
        if (queue !== null && this.#head < queue.length) {
          const compressed = this.#headCompressed(queue);
          let message: Uint8Array | null = this.#take(queue, compressed);
          if (compressed) {
            const wire = message;
            message = await this.owner.inflation.run(() => this.#inflate(wire), this.owner);
            if (message === null) this.signal.throwIfAborted();
          }
          return { value: message!, done: false };
        }
        if (this.aborted) this.signal.throwIfAborted();
        if (this.remoteClosed || this.finished) return DONE;
        await new Promise<void>((resolve) => this.#waiter = resolve);
      }
    };
    return { next, return: () => Promise.resolve(DONE), poll: () => this.#poll() };
  }

  protected wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  protected dispatch(): void {
    if (this.#dispatched) return;
    this.#dispatched = true;
    // Now, in the turn that read the bytes: an inflation wait below counts as waiting.
    this.receivedAt = this.owner.lastReadAt;
    const wire = this.request;
    if (this.#requestCompressed && wire !== null) {
      // Inflated now, still holding the reservation of its compressed bytes.
      const inflated = this.owner.inflation.run(() => this.#inflate(wire), this.owner);
      if (inflated instanceof Promise) inflated.then((message) => this.#handOver(message));
      else this.#handOver(inflated);
      return;
    }
    this.#handOver(wire);
  }

  /** Gives the call to the pipeline, with its request (null for streaming calls). */
  #handOver(request: Uint8Array | null): void {
    if (this.reservedBytes > 0) this.owner.unreserve(this);
    if (this.finished) return; // failed while inflating, or cancelled while waiting to
    this.request = request;
    this.#lastCompressed = this.#requestCompressed;
    this.running = true;
    const onDispatch = this.#onDispatch as (call: this) => void;
    this.#onDispatch = null;
    onDispatch(this);
  }

  /**
   * Inflates one request message, counting it in the memory budget until
   * the call ends or the next message is taken. Null when the call has ended
   * (here, or while the message waited for the gate).
   */
  #inflate(wire: Uint8Array): Uint8Array | null {
    if (this.finished) return null;
    const max = this.owner.maxReceiveMessageBytes;
    let message: Uint8Array;
    try {
      message = decompress(this.#requestEncoding, wire, max);
    } catch (error) {
      const tooLarge = error instanceof RangeError;
      this.fail(
        tooLarge ? Status.RESOURCE_EXHAUSTED : Status.INTERNAL,
        tooLarge
          ? `Received message that decompresses to a size larger than ${max}`
          : "Failed to decompress message",
      );
      return null;
    }
    if (!this.owner.memory.take(message.length)) {
      this.fail(Status.RESOURCE_EXHAUSTED, memoryFull("request", message.length));
      return null;
    }
    this.#inflatedBytes += message.length;
    return message;
  }

  /** Gives back the inflated bytes counted for the message last taken. */
  protected giveInflated(): void {
    if (this.#inflatedBytes === 0) return;
    this.owner.memory.give(this.#inflatedBytes);
    this.#inflatedBytes = 0;
  }
}

/** The length in a message prefix at `bytes[at]` (PROTOCOL-HTTP2.md, Length-Prefixed-Message). */
function prefixLength(bytes: Uint8Array, at: number): number {
  return ((bytes[at + 1] << 24) | (bytes[at + 2] << 16) | (bytes[at + 3] << 8) | bytes[at + 4]) >>>
    0;
}
