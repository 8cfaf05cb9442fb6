/**
 * The few bare HTTP statuses the web protocols use for failures that come
 * before any call exists. Once a request is classified, gRPC-Web answers
 * every call failure with HTTP 200 and grpc-status in trailers (in the body,
 * or as headers when trailers-only: PROTOCOL-WEB.md "Trailers-only
 * responses: no change to the gRPC protocol spec"), Connect streaming the
 * same with an EndStreamResponse, and Connect unary with
 * httpStatusForCode() (connect_codes.ts). A bare status is chosen so that
 * both kinds of client infer the right code from it: gRPC-Web clients use
 * gRPC's table (doc/http-grpc-status-mapping.md), Connect clients the
 * spec's #http-to-error-code, which gives the same codes for every status
 * gRPC's lists: codeFromHttpStatus() in connect_codes.ts serves both.
 * @module
 */
/** A failure met before a call exists. */
export type TransportFailure =
  /** A content-type no protocol claims (Connect spec: 415). */
  | "unsupported-media-type"
  /** Neither POST nor a Connect GET (RFC 9110 §15.5.6: send `allow`). */
  | "method-not-allowed"
  /** Not accepting calls now: draining, or the process is overloaded. */
  | "unavailable";

/**
 * The HTTP status for a failure before a call exists. 503 reads as
 * UNAVAILABLE to gRPC-Web and Connect clients alike, so they retry; 415
 * and 405 read as UNKNOWN to both, which is right for a client that sent
 * something no retry fixes.
 *
 * @example
 * ```ts
 * httpStatusForFailure("unsupported-media-type"); // 415
 * ```
 */
export function httpStatusForFailure(failure: TransportFailure): 405 | 415 | 503 {
  switch (failure) {
    case "unsupported-media-type":
      return 415;
    case "method-not-allowed":
      return 405;
    case "unavailable":
      return 503;
  }
}
