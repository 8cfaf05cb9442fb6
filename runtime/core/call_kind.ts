/**
 * The four gRPC call kinds, in a leaf of their own: the call context and
 * the client contract both name them, and neither may import the other.
 * @module
 */

/** The four gRPC call kinds, spelled as go-grpc-prometheus's `grpc_type` label. */
export type CallKind = "unary" | "client_stream" | "server_stream" | "bidi_stream";
