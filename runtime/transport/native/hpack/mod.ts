/**
 * HPACK header compression (RFC 7541) for the native HTTP/2 transport.
 * @module
 */
export { type DecodeResult, type HeaderField, HpackDecoder } from "./decoder.ts";
export { HpackEncoder } from "./encoder.ts";
export { HpackError } from "./errors.ts";
