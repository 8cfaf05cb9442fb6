/**
 * HTTP/2 frame layout (RFC 9113 §4, §6): types, flags, error codes,
 * settings identifiers, and the 9-byte frame header.
 * @module
 */

/** Frame types (RFC 9113 §6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags; END_STREAM and ACK share a bit on different frame types. */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Error codes (RFC 9113 §7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** Settings identifiers (RFC 9113 §6.5.2). */
export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export const FRAME_HEADER_BYTES = 9;
/** Flow-control windows may not exceed 2^31-1 (RFC 9113 §6.9.1). */
export const MAX_WINDOW = 0x7fffffff;
/** The window every stream and the connection start with before SETTINGS (RFC 9113 §6.9.2). */
export const DEFAULT_WINDOW = 65535;
export const DEFAULT_MAX_FRAME_SIZE = 16384;

/** A connection error: ends the connection with GOAWAY `code` (RFC 9113 §5.4.1). */
export class ConnectionError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** A stream error: ends one stream with RST_STREAM `code` (RFC 9113 §5.4.2). */
export class StreamError extends Error {
  constructor(readonly streamId: number, readonly code: number, message: string) {
    super(message);
  }
}

/** Reads a big-endian u32 from `bytes` at `at`. */
export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** The name of an error code, for logs. */
export function errorName(code: number): string {
  for (const [name, value] of Object.entries(ErrorCode)) if (value === code) return name;
  return `0x${code.toString(16)}`;
}
