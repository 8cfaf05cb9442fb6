/**
 * The pure protocol layer for gRPC-Web and Connect on the gRPC port:
 * classifying requests, envelopes, gRPC-Web trailers and base64 text, and
 * Connect's codes, errors, headers and GET queries. No sockets: the native
 * transport drives these over HTTP/1.1 and HTTP/2.
 *
 * @example
 * ```ts
 * import { classifyRequest } from "./mod.ts";
 * const request = classifyRequest("POST", "application/grpc-web+proto", "");
 * ```
 * @module
 */
export {
  checkCallKind,
  checkConnectVersion,
  classifyRequest,
  type MessageCodec,
  queryParam,
  type RequestProtocol,
  type RequestRejection,
  type WebProtocol,
} from "./protocol.ts";
export {
  encodeEnvelope,
  type Envelope,
  type EnvelopeError,
  EnvelopeParser,
  type EnvelopeParserOptions,
  FLAG_COMPRESSED,
  FLAG_END_STREAM,
  FLAG_TRAILERS,
  writeEnvelopePrefix,
} from "./envelope.ts";
export { encodeGrpcWebTrailers, type GrpcWebTrailers, parseGrpcWebTrailers } from "./grpc_web.ts";
export { Base64StreamDecoder, encodeBase64Frame } from "./grpc_web_text.ts";
export {
  codeFromHttpStatus,
  connectCodeName,
  httpStatusForCode,
  statusFromConnectCode,
} from "./connect_codes.ts";
export {
  type ConnectErrorJson,
  connectErrorJson,
  decodeConnectError,
  decodeEndStream,
  encodeConnectError,
  encodeEndStream,
  type EndStream,
} from "./connect_error.ts";
export {
  appendConnectUnaryMetadata,
  connectMetadataRecord,
  connectRequestMetadata,
  metadataFromConnectRecord,
  parseConnectTimeout,
} from "./connect_headers.ts";
export {
  type ConnectGetError,
  type ConnectGetRequest,
  decodeConnectGetQuery,
} from "./connect_get.ts";
export {
  decodeRpcStatus,
  encodeRpcStatus,
  type ErrorDetail,
  type RpcStatusProto,
  STATUS_DETAILS_KEY,
} from "./status_details.ts";
export { httpStatusForFailure, type TransportFailure } from "./http_status.ts";
