/**
 * Fills gaps in Deno 2.8.3's node:http2 that grpc-js depends on. Imported
 * for its effect before grpc-js serves anything.
 * @module
 */
import http2 from "node:http2";

// grpc-js answers a non-gRPC content-type with
// `:status: http2.constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE`; Deno lacks
// the constant, so the reply went out as HTTP 200 with no grpc-status.
const constants = http2.constants as Record<string, unknown>;
constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE ??= 415;
