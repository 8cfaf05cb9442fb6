/**
 * Which protocol a request on the gRPC port speaks, from its method and
 * content-type (and, for a Connect GET, the `encoding` query parameter):
 * gRPC (PROTOCOL-HTTP2.md), gRPC-Web and gRPC-Web-Text (PROTOCOL-WEB.md),
 * or Connect unary or streaming (connectrpc.com/docs/protocol). Also what
 * each answers with, and which call kinds and methods each allows.
 * @module
 */
import type { CallKind } from "../../core/call_kind.ts";

/** The wire protocol of one request. */
export type WebProtocol = "grpc" | "grpc-web" | "grpc-web-text" | "connect" | "connect-stream";

/** How messages are serialized. */
export type MessageCodec = "proto" | "json";

/** A request svc can serve. */
export interface RequestProtocol {
  readonly protocol: WebProtocol;
  readonly codec: MessageCodec;
  /** The content-type of a successful response (a Connect unary error is application/json). */
  readonly responseContentType: string;
  /** A Connect unary GET: the message is in the query, not the body. */
  readonly get: boolean;
}

/** A request svc cannot serve, answered with a bare HTTP status. */
export interface RequestRejection {
  /** 415: unknown media type (Connect spec); 405: method not allowed. */
  readonly httpStatus: 405 | 415;
  readonly reason: string;
}

function known(
  protocol: WebProtocol,
  codec: MessageCodec,
  responseContentType: string,
  get = false,
): RequestProtocol {
  return Object.freeze({ protocol, codec, responseContentType, get });
}

// One shared, frozen answer per (protocol, codec): classifying allocates nothing.
const GRPC_PROTO = known("grpc", "proto", "application/grpc");
const GRPC_JSON = known("grpc", "json", "application/grpc+json");
const WEB_PROTO = known("grpc-web", "proto", "application/grpc-web+proto");
const WEB_JSON = known("grpc-web", "json", "application/grpc-web+json");
const TEXT_PROTO = known("grpc-web-text", "proto", "application/grpc-web-text+proto");
const TEXT_JSON = known("grpc-web-text", "json", "application/grpc-web-text+json");
const CONNECT_PROTO = known("connect", "proto", "application/proto");
const CONNECT_JSON = known("connect", "json", "application/json");
const STREAM_PROTO = known("connect-stream", "proto", "application/connect+proto");
const STREAM_JSON = known("connect-stream", "json", "application/connect+json");
const GET_PROTO = known("connect", "proto", "application/proto", true);
const GET_JSON = known("connect", "json", "application/json", true);

// Media types (lower case, without parameters). A bare subtype means proto
// (PROTOCOL-HTTP2.md: "application/grpc" alone is protobuf).
const BY_MEDIA_TYPE = new Map<string, RequestProtocol>([
  ["application/grpc", GRPC_PROTO],
  ["application/grpc+proto", GRPC_PROTO],
  ["application/grpc+json", GRPC_JSON],
  ["application/grpc-web", WEB_PROTO],
  ["application/grpc-web+proto", WEB_PROTO],
  ["application/grpc-web+json", WEB_JSON],
  ["application/grpc-web-text", TEXT_PROTO],
  ["application/grpc-web-text+proto", TEXT_PROTO],
  ["application/grpc-web-text+json", TEXT_JSON],
  ["application/proto", CONNECT_PROTO],
  ["application/json", CONNECT_JSON],
  ["application/connect+proto", STREAM_PROTO],
  ["application/connect+json", STREAM_JSON],
]);

/**
 * Classifies a request. `query` (the part after `?`, without it) is read
 * only for GET. Exact, common content-types are one map lookup; others
 * (upper case, parameters) are normalized first. A `charset` parameter
 * other than UTF-8 is refused: JSON on the wire is UTF-8 (RFC 8259 §8.1).
 *
 * @example
 * ```ts
 * classifyRequest("POST", "application/grpc-web+proto", "");
 * // { protocol: "grpc-web", codec: "proto", responseContentType: "application/grpc-web+proto", get: false }
 * classifyRequest("POST", "text/plain", "");
 * // { httpStatus: 415, reason: 'Unsupported content-type "text/plain"' }
 * ```
 */
export function classifyRequest(
  method: string,
  contentType: string | undefined,
  query: string,
): RequestProtocol | RequestRejection {
  if (method === "GET") {
    // Connect unary GET (spec "Unary-Get-Request"): no content-type; the codec is a query parameter.
    const encoding = queryParam(query, "encoding");
    if (encoding === "proto") return GET_PROTO;
    if (encoding === "json") return GET_JSON;
    return {
      httpStatus: 415,
      reason: encoding === undefined
        ? "GET request without an encoding query parameter"
        : `Unsupported encoding ${JSON.stringify(encoding)}`,
    };
  }
  if (method !== "POST") return { httpStatus: 405, reason: `Method ${method} not allowed` };
  if (contentType === undefined) return { httpStatus: 415, reason: "Missing content-type" };
  const found = BY_MEDIA_TYPE.get(contentType) ?? BY_MEDIA_TYPE.get(normalize(contentType));
  return found ?? {
    httpStatus: 415,
    reason: `Unsupported content-type ${JSON.stringify(contentType)}`,
  };
}

/** The media type lower-cased and without parameters; "" when a charset is not UTF-8. */
function normalize(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim()
    .toLowerCase();
  if (semicolon < 0) return type;
  for (const parameter of contentType.slice(semicolon + 1).split(";")) {
    const [name, value = ""] = parameter.split("=");
    if (name.trim().toLowerCase() !== "charset") continue;
    const charset = value.trim().replace(/^"|"$/g, "").toLowerCase();
    if (charset !== "utf-8" && charset !== "utf8") return "";
  }
  return type;
}

/**
 * Whether a classified request may call a method of `kind`. Connect unary
 * content-types serve unary methods only, `application/connect+*` the
 * streaming ones (spec: 415 either way); GET serves only unary methods
 * marked `idempotency_level = NO_SIDE_EFFECTS` (405 otherwise). gRPC and
 * gRPC-Web carry every kind; whether the HTTP version can (bidi over
 * HTTP/1.1) is the transport's question.
 *
 * @example
 * ```ts
 * const request = classifyRequest("POST", "application/json", "");
 * if (!("httpStatus" in request)) checkCallKind(request, "server_stream", false);
 * // { httpStatus: 415, reason: "application/json is for unary methods; ..." }
 * ```
 */
export function checkCallKind(
  request: RequestProtocol,
  kind: CallKind,
  noSideEffects: boolean,
): RequestRejection | null {
  const unary = kind === "unary";
  if (request.get && !(unary && noSideEffects)) {
    return {
      httpStatus: 405,
      reason: "GET is allowed only for unary methods with idempotency_level = NO_SIDE_EFFECTS",
    };
  }
  if (request.protocol === "connect" && !unary) {
    return {
      httpStatus: 415,
      reason: `${request.responseContentType} is for unary methods; ` +
        `streaming methods take application/connect+${request.codec}`,
    };
  }
  if (request.protocol === "connect-stream" && unary) {
    return {
      httpStatus: 415,
      reason: `${request.responseContentType} is for streaming methods; ` +
        `unary methods take application/${request.codec}`,
    };
  }
  return null;
}

const POST_ONLY: readonly string[] = Object.freeze(["POST"]);
const GET_AND_POST: readonly string[] = Object.freeze(["GET", "POST"]);

/**
 * The HTTP methods a served path answers, for a 405's `allow` header
 * (RFC 9110 §15.5.6): POST, and GET too for the unary methods marked
 * `idempotency_level = NO_SIDE_EFFECTS` (Connect GET), as connect-es lists
 * them.
 *
 * @example
 * ```ts
 * allowedMethods("unary", true).join(", "); // "GET, POST"
 * allowedMethods("server_stream", true).join(", "); // "POST"
 * ```
 */
export function allowedMethods(kind: CallKind, noSideEffects: boolean): readonly string[] {
  return kind === "unary" && noSideEffects ? GET_AND_POST : POST_ONLY;
}

/**
 * Why a Connect request's protocol version is wrong, or null. The spec lets
 * servers require `connect-protocol-version: 1` (or `connect=v1` on GET)
 * and refuse without it (400); svc accepts its absence, since curl users
 * and older clients omit it, unless `required`, but refuses any other
 * value: a later protocol revision must not be misread as this one.
 *
 * @example
 * ```ts
 * checkConnectVersion("2", false); // 'connect-protocol-version must be "1": got "2"'
 * ```
 */
export function checkConnectVersion(
  value: string | undefined,
  required: boolean,
  get = false,
): string | null {
  const name = get ? "connect" : "connect-protocol-version";
  const expected = get ? "v1" : "1";
  if (value === undefined) {
    return required ? `Missing ${name}: set it to "${expected}"` : null;
  }
  return value === expected ? null : `${name} must be "${expected}": got ${JSON.stringify(value)}`;
}

/**
 * The first value of `name` in a query string, percent-decoded (`+` is a
 * space, as in forms); undefined when absent or malformed.
 *
 * @example
 * ```ts
 * queryParam("encoding=json&message=%7B%7D", "message"); // "{}"
 * ```
 */
export function queryParam(query: string, name: string): string | undefined {
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf("&", start);
    if (end < 0) end = query.length;
    if (
      end - start > name.length && query.startsWith(name, start) &&
      query.charCodeAt(start + name.length) === 61 /* "=" */
    ) {
      return decodeQueryComponent(query.slice(start + name.length + 1, end));
    }
    if (end - start === name.length && query.startsWith(name, start)) return "";
    start = end + 1;
  }
  return undefined;
}

function decodeQueryComponent(raw: string): string | undefined {
  if (raw.indexOf("%") < 0 && raw.indexOf("+") < 0) return raw;
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}
