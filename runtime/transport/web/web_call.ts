/**
 * One gRPC-Web or Connect call on an HTTP/1.1 exchange, as the pipeline
 * sees it: a {@link TransportCall} whose response side writes the
 * protocol's framing. Connect unary buffers its single reply (status,
 * headers and `trailer-` headers must precede the body); the enveloped
 * protocols (gRPC-Web, gRPC-Web-Text, Connect streaming) write each message
 * as it comes, chunked, and end with their trailers frame or EndStream
 * message. The request side (bytes, `requests()`) is filled in by
 * serve_http1.ts before the call is handed on. Responses are gzip when the
 * client accepts it and the server's policy or the handler
 * (`compressResponses`) asks: the whole body of a Connect unary answer,
 * each message of the enveloped ones (never their trailers or EndStream),
 * in both cases only from web_compression.ts's COMPRESS_MIN_BYTES up.
 * @module
 */
import { Status } from "../../core/errors.ts";
import type { Metadata } from "../../core/metadata.ts";
import type { HeaderField } from "../native/hpack/mod.ts";
import { appendMetadata } from "../native/grpc_wire.ts";
import { compress } from "../native/compression.ts";
import type { Http1Request, Http1ResponseWriter } from "../http1/mod.ts";
import type { CallStatus, Route, RouteJsonCodec, TransportCall } from "../types.ts";
import { callDeadlines, type Expiring } from "../deadlines.ts";
import { httpStatusForCode } from "./connect_codes.ts";
import { encodeConnectError, encodeEndStream } from "./connect_error.ts";
import { appendConnectUnaryMetadata } from "./connect_headers.ts";
import { encodeEnvelope, FLAG_COMPRESSED, FLAG_END_STREAM } from "./envelope.ts";
import { encodeGrpcWebTrailers } from "./grpc_web.ts";
import { encodeBase64Frame } from "./grpc_web_text.ts";
import type { RequestProtocol } from "./protocol.ts";
import { failure } from "./web_request.ts";
import { COMPRESS_MIN_BYTES, compressionHeaders } from "./web_compression.ts";

/** What a {@link WebCall} is made of. */
export interface WebCallInit {
  readonly route: Route;
  readonly protocol: RequestProtocol;
  readonly request: Http1Request;
  readonly response: Http1ResponseWriter;
  readonly metadata: Metadata;
  /** Absolute, epoch ms; Infinity for none. */
  readonly deadline: number;
  /** Converters when the codec is JSON, else null. */
  readonly json: RouteJsonCodec | null;
  readonly maxSendMessageBytes: number;
  /** A Connect error's HTTP status instead of the code's (404 for an unknown path). */
  readonly httpStatus?: number;
  /** The client's accept header (per protocol: web_compression.ts) lists gzip. */
  readonly acceptsGzip?: boolean;
  /** `server.compression` is gzip: responses are compressed unless the handler says not. */
  readonly compressByDefault?: boolean;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * A call over HTTP/1.1. `finished` resolves once its response has been
 * handed to the connection in full (or the connection died).
 *
 * @example
 * ```ts
 * const call = new WebCall({ route, protocol, request, response, metadata, deadline: Infinity,
 *   json: null, maxSendMessageBytes: 4 << 20 });
 * call.setRequest(bytes);
 * onCall(call);
 * await call.finished;
 * ```
 */
export class WebCall implements TransportCall, Expiring {
  readonly route: Route;
  readonly metadata: Metadata;
  readonly peer: string;
  readonly peerCertificate = null;
  readonly deadline: number;
  request: Uint8Array | null = null;
  /** Whether the request message last taken was compressed on the wire. */
  requestCompressed = false;
  readonly #init: WebCallInit;
  readonly #controller = new AbortController();
  readonly #finished = Promise.withResolvers<void>();
  #requests: () => AsyncIterable<Uint8Array> = () => emptyRequests();
  #headers: Metadata | null = null;
  #ended = false;
  #sentCode: Status = Status.OK;
  /** Its place in callDeadlines while the deadline is armed (Expiring). */
  deadlineSlot = -1;
  /** The response is gzip (its encoding header says so); fixed once the head is sent. */
  #gzip: boolean;
  /** Whether messages are compressed while #gzip (the handler may turn it off and on). */
  #compressMessages = true;
  /** Protocol headers serve_http1.ts adds to the head (an accept-encoding list). */
  readonly #extraHeaders: HeaderField[] = [];
  /** The last write: a handler awaiting it waits for the socket (backpressure). */
  #chain: Promise<void> = Promise.resolve();
  readonly #onDisconnect = () => this.#abortFromClient();

  constructor(init: WebCallInit) {
    this.#init = init;
    this.route = init.route;
    this.metadata = init.metadata;
    this.peer = init.request.peer;
    this.deadline = init.deadline;
    this.#gzip = (init.compressByDefault ?? false) && (init.acceptsGzip ?? false);
    init.request.signal.addEventListener("abort", this.#onDisconnect, { once: true });
    // The pipeline relies on the transport to end an overdue call (TransportCall.signal).
    if (init.deadline !== Infinity) callDeadlines.add(this);
  }

  /** Aborts on deadline, client disconnect, or the connection closing. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Resolves once the response is written (or can no longer be). */
  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  /** The single request message of a unary or server-streaming call. */
  setRequest(bytes: Uint8Array): void {
    this.request = bytes;
  }

  /** The request stream of a client-streaming call. */
  setRequests(requests: () => AsyncIterable<Uint8Array>): void {
    this.#requests = requests;
  }

  /** Adds a header to the response head, if it has not gone out yet. */
  addResponseHeader(field: HeaderField): void {
    this.#extraHeaders.push(field);
  }

  /**
   * Compress the following response messages, if the client accepts gzip,
   * or not. Before the head goes out this also picks its encoding header;
   * after, only each message's flag (a Connect unary body goes out whole at
   * the end, so the last call before then decides).
   */
  compressResponses(enabled: boolean): void {
    this.#compressMessages = enabled;
    if (enabled && !this.#init.response.headSent && (this.#init.acceptsGzip ?? false)) {
      this.#gzip = true;
    }
  }

  header(name: string): string | undefined {
    return this.#init.request.headers.get(name) ?? undefined;
  }

  requests(): AsyncIterable<Uint8Array> {
    return this.#requests();
  }

  sendHeaders(headers: Metadata): void {
    // Held until the head goes out with the first message or the end: HTTP/1.1 sends
    // a head only together with a body write.
    this.#headers ??= headers;
  }

  write(message: Uint8Array): Promise<void> | void {
    if (this.#ended || this.#init.protocol.protocol === "connect") return;
    const payload = this.#payload(message);
    if (typeof payload === "object" && !(payload instanceof Uint8Array)) {
      this.end(payload);
      return;
    }
    this.#sendHead(200, this.#init.protocol.responseContentType, null, undefined, this.#gzip);
    return this.#send(this.#messageFrame(payload));
  }

  end(status: CallStatus, response?: Uint8Array): Status {
    if (this.#ended) return this.#sentCode;
    let final = status;
    let body: Uint8Array | null = null;
    if (status.code === Status.OK && response !== undefined) {
      const payload = this.#payload(response);
      if (payload instanceof Uint8Array) body = payload;
      else final = payload;
    }
    this.#ended = true;
    this.#sentCode = final.code;
    callDeadlines.remove(this);
    this.#init.request.signal.removeEventListener("abort", this.#onDisconnect);
    if (this.#init.protocol.protocol === "connect") this.#endUnary(final, body);
    else this.#endEnveloped(final, body);
    let ended: Promise<void>;
    try {
      ended = this.#init.response.end();
    } catch (error) {
      ended = Promise.reject(error);
    }
    Promise.all([this.#chain, ended]).catch(() => {}).finally(() => this.#finished.resolve());
    return final.code;
  }

  /** Connect unary: the whole answer at once, trailers as `trailer-` headers. */
  #endUnary(status: CallStatus, body: Uint8Array | null): void {
    const ok = status.code === Status.OK;
    let bytes = ok ? body ?? EMPTY : encodeConnectError(status);
    // Only a success body: an error's JSON is small, and any client must be able to read it.
    const compressed = ok && this.#compressing(bytes);
    if (compressed) bytes = compress("gzip", bytes);
    const httpStatus = ok ? 200 : this.#init.httpStatus ?? httpStatusForCode(status.code);
    const contentType = ok ? this.#init.protocol.responseContentType : "application/json";
    this.#sendHead(httpStatus, contentType, status.trailers, bytes.length, compressed);
    this.#send(bytes);
  }

  /** gRPC-Web(-Text) and Connect streaming: messages, then the trailers frame or EndStream. */
  #endEnveloped(status: CallStatus, body: Uint8Array | null): void {
    this.#sendHead(200, this.#init.protocol.responseContentType, null, undefined, this.#gzip);
    if (body !== null) this.#send(this.#messageFrame(body));
    if (this.#init.protocol.protocol === "connect-stream") {
      this.#send(this.#frame(FLAG_END_STREAM, encodeEndStream(status)));
    } else {
      const trailers = encodeGrpcWebTrailers(status);
      this.#send(
        this.#init.protocol.protocol === "grpc-web-text" ? encodeBase64Frame(trailers) : trailers,
      );
    }
  }

  /** The message as the client's codec wants it, or the status to end with instead. */
  #payload(message: Uint8Array): Uint8Array | CallStatus {
    let bytes = message;
    const json = this.#init.json;
    if (json !== null) {
      try {
        bytes = encoder.encode(json.responseToJson(message));
      } catch {
        // The handler's reply passed the binary codec; only a JSON-only limit fails here.
        return failure(Status.INTERNAL, "Cannot write the response as JSON");
      }
    }
    if (bytes.length > this.#init.maxSendMessageBytes) {
      return failure(
        Status.RESOURCE_EXHAUSTED,
        `Sent message larger than max (${bytes.length} vs ${this.#init.maxSendMessageBytes})`,
      );
    }
    return bytes;
  }

  /** Whether `message` goes out compressed. */
  #compressing(message: Uint8Array): boolean {
    return this.#gzip && this.#compressMessages && message.length >= COMPRESS_MIN_BYTES;
  }

  /** One response message enveloped, compressed and flagged so when it should be. */
  #messageFrame(message: Uint8Array): Uint8Array {
    return this.#compressing(message)
      ? this.#frame(FLAG_COMPRESSED, compress("gzip", message))
      : this.#frame(0, message);
  }

  #frame(flags: number, data: Uint8Array): Uint8Array {
    const frame = encodeEnvelope(flags, data);
    return this.#init.protocol.protocol === "grpc-web-text" ? encodeBase64Frame(frame) : frame;
  }

  #sendHead(
    httpStatus: number,
    contentType: string,
    trailers: Metadata | null,
    contentLength?: number,
    gzip = false,
  ): void {
    const response = this.#init.response;
    if (response.headSent) return;
    const base: HeaderField[] = [["content-type", contentType]];
    if (contentLength !== undefined) base.push(["content-length", String(contentLength)]);
    if (gzip) base.push([compressionHeaders(this.#init.protocol).encoding, "gzip"]);
    // A Connect GET answer is cacheable, and its encoding follows Accept-Encoding.
    if (this.#init.protocol.get) base.push(["vary", "accept-encoding"]);
    base.push(...this.#extraHeaders);
    const fields = [...base];
    if (
      this.#init.protocol.protocol === "connect" ||
      this.#init.protocol.protocol === "connect-stream"
    ) {
      appendConnectUnaryMetadata(fields, this.#headers, trailers);
    } else if (this.#headers !== null) appendMetadata(fields, this.#headers);
    try {
      response.writeHead(httpStatus, fields);
    } catch {
      // A metadata value the wire cannot carry: the answer matters more than the metadata.
      response.writeHead(httpStatus, base);
    }
  }

  #send(bytes: Uint8Array): Promise<void> {
    // Queued at once, not after the previous write resolves: both HTTP versions keep
    // their writes in order, and what one turn writes leaves in one socket write.
    let written: Promise<void>;
    try {
      written = this.#init.response.write(bytes);
    } catch (error) {
      written = Promise.reject(error);
    }
    // A failed write means the connection is gone; its close aborts the call.
    this.#chain = written.catch(() => {});
    return this.#chain;
  }

  /** Expiring: the deadline passed before the call ended. */
  deadlineExpired(): void {
    this.end(failure(Status.DEADLINE_EXCEEDED, "Deadline exceeded"));
    this.#controller.abort(new DOMException("Deadline exceeded", "TimeoutError"));
  }

  #abortFromClient(): void {
    if (!this.#ended) {
      this.#ended = true;
      this.#sentCode = Status.CANCELLED;
      callDeadlines.remove(this);
      this.#finished.resolve();
    }
    this.#controller.abort(this.#init.request.signal.reason);
  }
}

async function* emptyRequests(): AsyncGenerator<Uint8Array> {}
