/**
 * gRPC-Web and Connect over HTTP/1.1: the {@link Http1Handler} the native
 * transport gives each HTTP/1.1 connection when `server.web.enabled`. It
 * classifies a request (bare 405/415 for what no protocol claims), finds
 * its route (unknown: UNIMPLEMENTED in the protocol's own form, HTTP 404
 * for Connect), reads the request (whole body, envelopes, or a Connect GET
 * query), inflating it when compressed (web_compression.ts), turns JSON
 * into binary, and hands the pipeline a {@link WebCall}. A served path
 * asked with a method it does not take is a bare 405 whose `allow` header
 * lists the ones it does. Loaded only when enabled: with it off, none of
 * this is in the process.
 *
 * HTTP/1.1 is half-duplex (the whole request precedes the response), so
 * bidi streaming is refused with UNIMPLEMENTED; client streaming works,
 * since its messages are all sent before its one reply.
 * @module
 */
import { Status } from "../../core/errors.ts";
import type { Metadata } from "../../core/metadata.ts";
import { parseTimeout } from "../native/grpc_wire.ts";
import type { InflateGate } from "../native/compression.ts";
import type { MemoryBudget } from "../../util/memory_budget.ts";
import type { Http1Handler, Http1Request, Http1ResponseWriter } from "../http1/mod.ts";
import type { CallStatus, Route, RouteJsonCodec, TransportCall } from "../types.ts";
import { decodeConnectGetQuery } from "./connect_get.ts";
import { connectRequestMetadata, parseConnectTimeout } from "./connect_headers.ts";
import {
  allowedMethods,
  checkCallKind,
  checkConnectVersion,
  classifyRequest,
  type RequestProtocol,
} from "./protocol.ts";
import { WebCall } from "./web_call.ts";
import { type CallCompression, negotiateCompression } from "./web_compression.ts";
import {
  BodyHold,
  envelopedMessages,
  failure,
  inflate,
  jsonMessages,
  jsonRequestToBinary,
  type MessageInflation,
  readSingleMessage,
  readWholeBody,
} from "./web_request.ts";

/** What the web handler needs from its transport. */
export interface WebHandlerOptions {
  /** The transport's live route map (setRoutes() changes it in place). */
  readonly routes: ReadonlyMap<string, Route>;
  /** The pipeline; read on every call, so listen() may set it after the handler is made. */
  readonly onCall: () => (call: TransportCall) => void;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /**
   * `server.compression`: with gzip, responses are compressed for clients
   * that accept it (handlers may still say otherwise). Default identity.
   */
  readonly compression?: "identity" | "gzip";
  /**
   * The transport's inflation pacing (issue 19), shared with gRPC so that
   * compressed web requests cannot take the event loop either; absent:
   * requests are inflated at once (each is still bounded by the limit).
   */
  readonly inflation?: InflateGate;
  /** The process's memory budget: request bodies being assembled are counted in it. */
  readonly memory?: MemoryBudget;
}

// gRPC-Web's own request headers, the transport's to read: handlers never see them.
const GRPC_WEB_RESERVED = new Set([
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "x-grpc-web",
]);

/**
 * The handler serving gRPC-Web and Connect calls on an HTTP/1.1 connection.
 *
 * @example
 * ```ts
 * const handler = createWebHandler({ routes, onCall: () => onCall,
 *   maxReceiveMessageBytes: 4 << 20, maxSendMessageBytes: 4 << 20 });
 * new Http1Connection(socket, sniffed, handler, limits);
 * ```
 */
export function createWebHandler(options: WebHandlerOptions): Http1Handler {
  return async function serveWebRequest(request, response) {
    const route = options.routes.get(request.path);
    if (request.method !== "POST" && route !== undefined) {
      // The method first, as connect-es does: a GET of a POST-only method is 405 whatever its query.
      const allow = allowedMethods(route.kind, route.noSideEffects ?? false);
      if (!allow.includes(request.method)) {
        const reason = allow.length === 1
          ? `${request.path} takes POST only`
          : `${request.path} takes GET (Connect) or POST`;
        return answerBare(response, 405, reason, allow);
      }
    }
    const protocol = classifyRequest(
      request.method,
      request.headers.get("content-type") ?? undefined,
      request.query,
    );
    if ("httpStatus" in protocol) {
      // A method no protocol uses on a path not served: there is no resource to allow anything on.
      if (protocol.httpStatus === 405) return answerBare(response, 404, "Not found");
      return answerBare(response, protocol.httpStatus, protocol.reason);
    }
    if (protocol.protocol === "grpc") {
      return answerBare(response, 415, "gRPC needs HTTP/2; over HTTP/1.1 use gRPC-Web or Connect");
    }
    if (route === undefined) {
      const unknown: Route = { path: request.path, kind: "unary" };
      const call = newCall(options, unknown, protocol, request, response, null, 404);
      call.end(
        failure(
          Status.UNIMPLEMENTED,
          `The server does not implement the method ${request.path.slice(0, 256)}`,
        ),
      );
      return call.finished;
    }
    const noSideEffects = route.noSideEffects ?? false;
    const rejection = checkCallKind(protocol, route.kind, noSideEffects);
    if (rejection !== null) {
      const allow = allowedMethods(route.kind, noSideEffects);
      return answerBare(response, rejection.httpStatus, rejection.reason, allow);
    }
    await serveRoute(options, route, protocol, request, response);
  };
}

async function serveRoute(
  options: WebHandlerOptions,
  route: Route,
  protocol: RequestProtocol,
  request: Http1Request,
  response: Http1ResponseWriter,
): Promise<void> {
  let json: RouteJsonCodec | null = null;
  if (protocol.codec === "json") {
    if (route.json === undefined) return answerBare(response, 415, "This method takes no JSON");
    json = await route.json();
  }
  const compression = negotiateCompression(
    protocol,
    (name) => request.headers.get(name),
    request.query,
  );
  const accepted = "refused" in compression ? null : compression;
  const call = newCall(options, route, protocol, request, response, json, undefined, accepted);
  const refused = refusal(protocol, route, request);
  if (refused !== null) {
    call.end(refused);
    return call.finished;
  }
  if ("refused" in compression) {
    call.addResponseHeader(compression.header);
    call.end(compression.refused);
    return call.finished;
  }
  const max = options.maxReceiveMessageBytes;
  const inflation: MessageInflation = {
    encoding: compression.requestEncoding,
    onMessage: (compressed) => call.requestCompressed = compressed,
    gate: options.inflation,
  };
  if (route.kind === "client_stream" || route.kind === "bidi_stream") {
    const messages = () =>
      envelopedMessages(request.body, protocol, max, inflation, new BodyHold(options.memory));
    call.setRequests(json === null ? messages : () => jsonMessages(json, messages()));
  } else {
    const hold = new BodyHold(options.memory);
    const read = await readRequest(request, protocol, max, route.path, inflation, hold);
    const message = json !== null && read instanceof Uint8Array
      ? jsonRequestToBinary(json, read)
      : read;
    if (!(message instanceof Uint8Array)) {
      call.end(message);
      return call.finished;
    }
    call.setRequest(message);
  }
  if (!call.signal.aborted) options.onCall()(call);
  return call.finished;
}

/** Why this call cannot be served here before anything is read, or null. */
function refusal(
  protocol: RequestProtocol,
  route: Route,
  request: Http1Request,
): CallStatus | null {
  if (route.kind === "bidi_stream" && request.httpVersion !== "2") {
    return failure(
      Status.UNIMPLEMENTED,
      "Bidi streaming needs HTTP/2: HTTP/1.1 sends the whole request before the response",
    );
  }
  if (protocol.protocol === "connect") {
    const problem = checkConnectVersion(
      protocol.get ? undefined : request.headers.get("connect-protocol-version") ?? undefined,
      false,
    );
    if (problem !== null) return failure(Status.INVALID_ARGUMENT, problem);
  }
  return null;
}

/**
 * The request message of a unary or server-streaming call, inflated, or
 * the status to end with. A Connect unary body (or GET message) is
 * compressed as a whole when the request names an encoding; enveloped
 * messages say so each by their flag.
 */
async function readRequest(
  request: Http1Request,
  protocol: RequestProtocol,
  max: number,
  path: string,
  inflation: MessageInflation,
  hold: BodyHold,
): Promise<Uint8Array | CallStatus> {
  if (protocol.protocol !== "connect") {
    return await readSingleMessage(request.body, protocol, max, path, inflation, hold);
  }
  let wire: Uint8Array | CallStatus;
  if (protocol.get) {
    // The `compression` parameter was read by negotiateCompression() already.
    const get = decodeConnectGetQuery(request.query, max);
    if ("code" in get) return failure(get.code, get.message);
    const version = checkConnectVersion(get.connectVersion, false, true);
    if (version !== null) return failure(Status.INVALID_ARGUMENT, version);
    wire = get.message;
  } else {
    wire = await readWholeBody(request.body, max, hold);
  }
  if (!(wire instanceof Uint8Array)) return wire;
  inflation.onMessage?.(inflation.encoding !== "identity");
  return await inflate(inflation, wire, max);
}

function newCall(
  options: WebHandlerOptions,
  route: Route,
  protocol: RequestProtocol,
  request: Http1Request,
  response: Http1ResponseWriter,
  json: RouteJsonCodec | null,
  httpStatus?: number,
  compression: CallCompression | null = null,
): WebCall {
  return new WebCall({
    route,
    protocol,
    request,
    response,
    metadata: requestMetadata(protocol, request),
    deadline: deadlineOf(protocol, request),
    json,
    maxSendMessageBytes: options.maxSendMessageBytes,
    httpStatus,
    acceptsGzip: compression?.acceptsGzip ?? false,
    compressByDefault: options.compression === "gzip",
  });
}

function requestMetadata(protocol: RequestProtocol, request: Http1Request): Metadata {
  const fields = protocol.protocol === "connect" || protocol.protocol === "connect-stream"
    ? [...request.headers]
    : [...request.headers].filter(([name]) => !GRPC_WEB_RESERVED.has(name));
  return connectRequestMetadata(fields);
}

/** Absolute deadline in epoch ms; a malformed timeout is ignored, as gRPC servers do. */
function deadlineOf(protocol: RequestProtocol, request: Http1Request): number {
  const connect = protocol.protocol === "connect" || protocol.protocol === "connect-stream";
  const raw = request.headers.get(connect ? "connect-timeout-ms" : "grpc-timeout");
  if (raw === null) return Infinity;
  const ms = connect ? parseConnectTimeout(raw) : parseTimeout(raw);
  return ms === null ? Infinity : Date.now() + ms;
}

/** A bare HTTP status with a plain-text reason: for requests no protocol claims. */
async function answerBare(
  response: Http1ResponseWriter,
  status: number,
  reason: string,
  allow: readonly string[] = [],
): Promise<void> {
  const body = new TextEncoder().encode(reason + "\n");
  const headers: [string, string][] = [
    ["content-type", "text/plain; charset=utf-8"],
    ["content-length", String(body.length)],
  ];
  if (allow.length > 0) headers.push(["allow", allow.join(", ")]);
  response.writeHead(status, headers);
  await response.write(body);
  await response.end();
}
