/**
 * One gRPC call on one HTTP/2 stream: responses into DATA frames, status
 * into trailers, the deadline and cancellation; the request half (messages
 * out of DATA frames) is call_requests.ts. The connection owns the HTTP/2
 * side (windows, frames); this owns the gRPC side.
 * @module
 */
import { Status } from "../../core/errors.ts";
import type { Metadata } from "../../core/metadata.ts";
import type { PeerCertificate } from "../../core/peer.ts";
import type { CallStatus, Route, TransportCall } from "../types.ts";
import { compress, type Encoding } from "./compression.ts";
import { CallRequests, memoryFull, PREFIX_BYTES, type RequestOwner } from "./call_requests.ts";
import { callDeadlines, type Expiring } from "../deadlines.ts";
import {
  appendMetadata,
  encodeStatusMessage,
  fromLatin1,
  metadataFromFields,
} from "./grpc_wire.ts";
import type { HeaderField } from "./hpack/mod.ts";

/** What a call needs from its connection. */
export interface CallOwner extends RequestOwner {
  readonly maxSendMessageBytes: number;
  readonly peer: string;
  readonly peerCertificate: PeerCertificate | null;
  /** Queues response HEADERS (or Trailers-Only when `end`). */
  sendHeaders(call: NativeCall, fields: readonly HeaderField[], end: boolean): void;
  /**
   * Queues one message (flag 1 = compressed) as DATA, within the peer's
   * windows; false when it cannot be held until they open (memory budget).
   */
  sendMessage(call: NativeCall, body: Uint8Array, flag: number): boolean;
  /** Queues trailers after all pending DATA, ending the stream. */
  sendTrailers(call: NativeCall, fields: readonly HeaderField[]): void;
  /** The pipeline ended a call it was given: its handler has returned. */
  handlerDone(call: NativeCall): void;
  /** Resolves when the call's queued output is low again, or at once if it is. */
  whenWritable(call: NativeCall): Promise<void> | void;
}

const OK_HEADERS: readonly HeaderField[] = Object.freeze([
  [":status", "200"],
  ["content-type", "application/grpc"],
]);
const GZIP_HEADERS: readonly HeaderField[] = Object.freeze([
  ...OK_HEADERS,
  ["grpc-encoding", "gzip"],
]);
const OK_TRAILERS: readonly HeaderField[] = Object.freeze([["grpc-status", "0"]]);

/** A call on the native transport. The connection drives the HTTP/2 fields. */
export class NativeCall extends CallRequests<CallOwner> implements TransportCall, Expiring {
  readonly deadline: number;

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
  localClosed = false;
  /** Received DATA bytes not yet given back as window. */
  unreleased = 0;
  /** Released bytes not yet announced in a stream WINDOW_UPDATE. */
  windowCredit = 0;
  /** The part of `pendingBytes` counted in the memory budget (see FlowControl.send). */
  parkedBytes = 0;
  /** The stream closed while the handler was still running (it still counts; see connection). */
  detached = false;
  /** Waiters for `pendingBytes` to fall; see CallOwner.whenWritable. */
  drainWaiters: (() => void)[] | null = null;

  readonly #fields: readonly HeaderField[];
  #responseEncoding: Encoding;
  readonly #acceptsGzip: boolean;
  /** Whether messages are compressed when #responseEncoding is not identity. */
  #compressResponses = true;
  /** The code the client was sent; null when the stream was reset before any (see #codeSent). */
  #sentCode: Status | null = Status.OK;
  #metadata: Metadata | null = null;
  #abort: AbortController | null = null;
  /** Its place in callDeadlines while the deadline is armed (Expiring). */
  deadlineSlot = -1;

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
    super(owner, route, options.requestEncoding, options.onDispatch);
    this.id = id;
    this.#fields = fields;
    this.sendWindow = options.sendWindow;
    this.recvWindow = options.recvWindow;
    this.deadline = options.deadline;
    this.#responseEncoding = options.responseEncoding;
    this.#acceptsGzip = options.acceptsGzip ?? false;
  }

  /** Arms the deadline; streaming requests start the handler now, unary ones at END_STREAM. */
  start(): void {
    if (this.deadline !== Infinity) callDeadlines.add(this);
    const kind = this.route.kind;
    if (kind === "client_stream" || kind === "bidi_stream") this.dispatch();
  }

  get peer(): string {
    return this.owner.peer;
  }

  get peerCertificate(): PeerCertificate | null {
    return this.owner.peerCertificate;
  }

  get metadata(): Metadata {
    return this.#metadata ??= metadataFromFields(this.#fields);
  }

  header(name: string): string | undefined {
    if (this.#metadata) {
      const value = this.#metadata.get(name);
      return typeof value === "string" ? value : undefined;
    }
    // The fields as received: a few, scanned without building Metadata. The
    // names are not internalized strings, so === on them is a call into V8's
    // string comparison; their lengths tell most apart without one (the scan
    // cost 2 % of a small call's CPU without this check, in the profile of
    // svc-native-tracing-0.01, which looks up two headers per call).
    const fields = this.#fields;
    const length = name.length;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i][0];
      if (field.length === length && field === name) return fromLatin1(fields[i][1]);
    }
    return undefined;
  }

  get signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController();
      if (this.aborted) this.#abort.abort(cancelled());
    }
    return this.#abort.signal;
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

  // ------------------------------------------------------------ responses

  sendHeaders(headers: Metadata): void {
    if (this.headersSent || this.finished) return;
    const fields = this.#responseHeaders().slice();
    appendMetadata(fields, headers);
    this.owner.sendHeaders(this, fields, false);
  }

  write(message: Uint8Array): Promise<void> | void {
    if (this.finished) return;
    if (this.#tooLarge(message)) return;
    if (!this.headersSent) this.owner.sendHeaders(this, this.#responseHeaders(), false);
    if (!this.#send(message)) return;
    return this.owner.whenWritable(this);
  }

  /** Ends the call; returns the code the client was sent, which the transport may have chosen. */
  end(status: CallStatus, response?: Uint8Array): Status {
    if (this.running) {
      this.running = false;
      this.owner.handlerDone(this);
    }
    if (this.finished) return this.#codeSent();
    if (status.code === Status.OK && response !== undefined) {
      if (this.#tooLarge(response)) return this.#codeSent();
      if (!this.headersSent) this.owner.sendHeaders(this, this.#responseHeaders(), false);
      if (!this.#send(response)) return this.#codeSent();
    }
    this.#finish(status);
    return status.code;
  }

  /** Fails the call if `message` exceeds the send limit; the wording is grpc-js's. */
  #tooLarge(message: Uint8Array): boolean {
    const max = this.owner.maxSendMessageBytes;
    if (message.length <= max) return false;
    this.fail(
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
      ? this.owner.sendMessage(this, message, 0)
      : this.owner.sendMessage(this, compress(this.#responseEncoding, message), 1);
    if (!sent) this.fail(Status.RESOURCE_EXHAUSTED, memoryFull("response", message.length));
    return sent;
  }

  /** Ends the call with `status`, as trailers or as Trailers-Only. */
  #finish(status: CallStatus): void {
    this.finished = true;
    this.#sentCode = status.code;
    callDeadlines.remove(this);
    this.giveInflated();
    const trailersOnly = !this.headersSent;
    // Most calls end OK with nothing to add: one shared list, no allocation.
    if (!trailersOnly && status.code === Status.OK && !status.message && !status.trailers) {
      this.owner.sendTrailers(this, OK_TRAILERS);
      this.wake();
      return;
    }
    const fields: HeaderField[] = trailersOnly ? this.#responseHeaders().slice() : [];
    fields.push(["grpc-status", String(status.code)]);
    if (status.message) fields.push(["grpc-message", encodeStatusMessage(status.message)]);
    if (status.trailers) appendMetadata(fields, status.trailers);
    if (trailersOnly) this.owner.sendHeaders(this, fields, true);
    else this.owner.sendTrailers(this, fields);
    this.wake();
  }

  /** Ends the call from the transport side (bad input, limits, deadline). */
  protected fail(code: Status, message: string): void {
    if (this.finished) return;
    this.#finish({ code, message, trailers: null });
    this.cancel();
  }

  /**
   * The code to count. A stream reset before any status was sent ended the
   * client's way: its own deadline (its timer resets the stream) or a
   * cancel. Told apart when the handler returns, not at the reset: the
   * client's deadline runs slightly ahead of ours, which starts when the
   * request arrives.
   */
  #codeSent(): Status {
    if (this.#sentCode !== null) return this.#sentCode;
    return this.deadline <= Date.now() ? Status.DEADLINE_EXCEEDED : Status.CANCELLED;
  }

  /** The connection is closing: ends the call with `code` in its trailers, then cancels it. */
  abort(code: Status, message: string): void {
    this.fail(code, message);
    this.cancel();
  }

  /** Expiring: the deadline passed before the call ended. */
  deadlineExpired(): void {
    this.fail(Status.DEADLINE_EXCEEDED, "Deadline exceeded");
  }

  /** The stream is gone (RST_STREAM, connection closed): abort whatever is running. */
  cancel(): void {
    callDeadlines.remove(this);
    if (this.aborted) return;
    this.aborted = true;
    if (!this.finished) this.#sentCode = null;
    this.finished = true;
    this.giveInflated();
    this.#abort?.abort(cancelled());
    this.wake();
    const waiters = this.drainWaiters;
    this.drainWaiters = null;
    if (waiters) { for (const waiter of waiters) waiter(); }
  }
}

function cancelled(): DOMException {
  return new DOMException("call cancelled", "AbortError");
}
