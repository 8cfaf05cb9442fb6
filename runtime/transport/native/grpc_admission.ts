/**
 * gRPC admission: the gRPC half of a new stream's request headers
 * (PROTOCOL-HTTP2.md). Which method, whether we serve it, in what encoding,
 * by when. A request the transport refuses is answered here, before any
 * call exists (405, 415, UNIMPLEMENTED, ...); one it accepts becomes a
 * NativeCall. With the web protocols on, a request that is not gRPC
 * (gRPC-Web, Connect, a GET or a CORS preflight) becomes an H2WebStream for
 * the web handler instead. The HTTP/2 half (stream states, limits on
 * streams) is the connection's; what makes a request malformed is
 * request_headers.ts's.
 * @module
 */
import { Status } from "../../core/errors.ts";
import type { Http1Handler } from "../http1/mod.ts";
import type { Route, TransportCall } from "../types.ts";
import { type CallOwner, NativeCall } from "./call.ts";
import { H2WebStream, type WebStreamOwner } from "./h2_web_stream.ts";
import { ACCEPTED_ENCODINGS, parseEncoding } from "./compression.ts";
import { ErrorCode, StreamError } from "./frame.ts";
import { encodeStatusMessage, parseTimeout } from "./grpc_wire.ts";
import type { DecodeResult, HeaderField } from "./hpack/mod.ts";
import type { NativeLimits } from "./limits.ts";
import type { OutputWriter } from "./output_writer.ts";
import { validateRequestHeaders } from "./request_headers.ts";

/** Longest request value (path, content-type) echoed in an error message. */
const ECHO_MAX = 128;

/** Turns request headers into calls, or into early responses. */
export class GrpcAdmission {
  readonly #owner: CallOwner & WebStreamOwner;
  readonly #routes: ReadonlyMap<string, Route>;
  readonly #onCall: (call: NativeCall) => void;
  readonly #limits: NativeLimits;
  readonly #writer: OutputWriter;
  readonly #web: Http1Handler | null;
  /** A web request body's bound, as over HTTP/1.1 (web_dispatch.ts's http1Limits). */
  readonly #maxWebBodyBytes: number;

  constructor(
    owner: CallOwner & WebStreamOwner,
    options: {
      readonly routes: ReadonlyMap<string, Route>;
      readonly onCall: (call: TransportCall) => void;
      readonly limits: NativeLimits;
      readonly webHandler?: Http1Handler | null;
    },
    writer: OutputWriter,
  ) {
    this.#owner = owner;
    this.#routes = options.routes;
    this.#onCall = options.onCall;
    this.#limits = options.limits;
    this.#writer = writer;
    this.#web = options.webHandler ?? null;
    this.#maxWebBodyBytes = Math.ceil((options.limits.maxReceiveMessageBytes + 5) / 3) * 4;
  }

  /**
   * The call for a new stream's request headers, not yet started; or null
   * when the request has been answered here (the caller then resets the
   * stream if the client is still sending). Throws StreamError for a
   * malformed request.
   */
  admit(
    streamId: number,
    decoded: DecodeResult,
    sendWindow: number,
  ): NativeCall | H2WebStream | null {
    const limits = this.#limits;
    if (decoded.oversized) {
      this.#respondEarly(
        streamId,
        "200",
        Status.RESOURCE_EXHAUSTED,
        [
          `request headers (${decoded.size} bytes) exceed the limit of`,
          `${limits.maxHeaderListBytes} bytes`,
        ].join(" "),
      );
      return null;
    }
    const request = validateRequestHeaders(decoded.fields);
    if (typeof request === "string") {
      throw new StreamError(streamId, ErrorCode.PROTOCOL_ERROR, request);
    }
    if (this.#web !== null && !isGrpc(request.method, request.contentType)) {
      return new H2WebStream(
        this.#owner,
        streamId,
        { method: request.method, target: request.path },
        decoded.fields,
        this.#web,
        this.#maxWebBodyBytes,
        sendWindow,
        limits.initialWindowBytes,
      );
    }
    if (request.method !== "POST") {
      this.#respondEarly(
        streamId,
        "405",
        Status.UNIMPLEMENTED,
        `HTTP method ${request.method} is not allowed; gRPC uses POST`,
      );
      return null;
    }
    const contentType = request.contentType;
    if (
      contentType === undefined || !contentType.startsWith("application/grpc") ||
      (contentType.length > 16 && contentType[16] !== "+" && contentType[16] !== ";")
    ) {
      this.#respondEarly(
        streamId,
        "415",
        Status.INTERNAL,
        `invalid gRPC request content-type "${(contentType ?? "").slice(0, ECHO_MAX)}"`,
      );
      return null;
    }
    const route = this.#routes.get(request.path);
    if (route === undefined) {
      this.#respondEarly(
        streamId,
        "200",
        Status.UNIMPLEMENTED,
        `The server does not implement the method ${request.path.slice(0, ECHO_MAX)}`,
      );
      return null;
    }
    const requestEncoding = parseEncoding(request.encoding);
    if (requestEncoding === null) {
      this.#respondEarly(
        streamId,
        "200",
        Status.UNIMPLEMENTED,
        `Received message compressed with unsupported encoding "${
          request.encoding!.slice(0, ECHO_MAX)
        }"`,
        [["grpc-accept-encoding", ACCEPTED_ENCODINGS]],
      );
      return null;
    }
    let deadline = Infinity;
    if (request.timeout !== undefined) {
      const ms = parseTimeout(request.timeout);
      if (ms === null) {
        this.#respondEarly(
          streamId,
          "200",
          Status.INTERNAL,
          `Invalid grpc-timeout value "${request.timeout.slice(0, ECHO_MAX)}"`,
        );
        return null;
      }
      deadline = Date.now() + ms;
    }
    const acceptsGzip = request.acceptEncoding?.includes("gzip") ?? false;
    const gzip = limits.compression === "gzip" && acceptsGzip;
    return new NativeCall(this.#owner, streamId, route, decoded.fields, {
      sendWindow,
      recvWindow: limits.initialWindowBytes,
      deadline,
      requestEncoding,
      responseEncoding: gzip ? "gzip" : "identity",
      acceptsGzip,
      onDispatch: this.#onCall,
    });
  }

  /** A Trailers-Only response for a request refused before any call exists. */
  #respondEarly(
    streamId: number,
    httpStatus: string,
    code: Status,
    message: string,
    extra: HeaderField[] = [],
  ): void {
    this.#writer.headers(streamId, [
      [":status", httpStatus],
      ["content-type", "application/grpc"],
      ...extra,
      ["grpc-status", String(code)],
      ["grpc-message", encodeStatusMessage(message)],
    ], true);
  }
}

/** gRPC proper: a POST of `application/grpc`, bare or with a `+codec` or parameters. */
function isGrpc(method: string, contentType: string | undefined): boolean {
  return method === "POST" && contentType !== undefined &&
    contentType.startsWith("application/grpc") &&
    (contentType.length === 16 || contentType[16] === "+" || contentType[16] === ";");
}
