/**
 * The 5-byte envelope that gRPC, gRPC-Web and Connect streaming share: one
 * flags byte, then the message length as a 4-byte big-endian integer
 * (PROTOCOL-HTTP2.md "Length-Prefixed-Message"; connectrpc.com/docs/protocol
 * "Enveloped-Message"). An incremental parser takes body chunks as they
 * arrive and hands out whole messages; an encoder writes them.
 * @module
 */
import { Status } from "../../core/errors.ts";
import { PREFIX_BYTES } from "../native/call_requests.ts";

/** Flag 0x01: the message is compressed (all three protocols). */
export const FLAG_COMPRESSED = 0x01;
/** Flag 0x02: Connect's EndStreamResponse, the last message of a response stream. */
export const FLAG_END_STREAM = 0x02;
/** Flag 0x80: gRPC-Web trailers in the body (PROTOCOL-WEB.md "Message framing"). */
export const FLAG_TRAILERS = 0x80;

/** One whole enveloped message. */
export interface Envelope {
  readonly flags: number;
  /** The message; may be a view of a chunk given to `push()`. */
  readonly data: Uint8Array;
}

/** Why the body cannot be read further, with the status the call ends with. */
export interface EnvelopeError {
  readonly error: "too-large" | "bad-flags" | "truncated";
  readonly code: Status;
  readonly message: string;
}

/** Options of {@link EnvelopeParser}. */
export interface EnvelopeParserOptions {
  /** Largest message accepted, in bytes; checked from the prefix, before the body is held. */
  readonly maxMessageBytes: number;
  /** Flags a sender may set; any other bit fails the stream. Default: all. */
  readonly allowedFlags?: number;
}

/**
 * Turns body chunks into whole messages. Push each chunk, then take
 * messages with `next()` until it returns null. It holds at most one
 * partial message (bounded by `maxMessageBytes`) plus the chunks pushed but
 * not yet taken, and copies a byte at most once: a message inside one chunk
 * is a view of it, one spanning chunks is assembled into a buffer sized
 * from its prefix.
 *
 * @example
 * ```ts
 * const parser = new EnvelopeParser({ maxMessageBytes: 4 << 20 });
 * parser.push(chunk);
 * for (let m = parser.next(); m !== null; m = parser.next()) {
 *   if ("error" in m) throw new RpcError(m.code, m.message);
 *   handle(m.flags, m.data);
 * }
 * ```
 */
export class EnvelopeParser {
  readonly #max: number;
  readonly #allowed: number;
  #chunks: Uint8Array[] = [];
  #offset = 0; // into #chunks[0]
  readonly #prefix = new Uint8Array(PREFIX_BYTES);
  #prefixFill = 0;
  #body: Uint8Array | null = null; // a message spanning chunks, being assembled
  #bodyFill = 0;
  #failed: EnvelopeError | null = null;

  constructor(options: EnvelopeParserOptions) {
    this.#max = options.maxMessageBytes;
    this.#allowed = options.allowedFlags ?? 0xff;
  }

  /** Hands the parser the next body chunk; it is read, never written. */
  push(chunk: Uint8Array): void {
    if (chunk.length > 0 && this.#failed === null) this.#chunks.push(chunk);
  }

  /** Whether bytes of a message not yet complete are held. */
  get partial(): boolean {
    return this.#prefixFill > 0 || this.#chunks.length > 0;
  }

  /**
   * The next whole message, null when more bytes are needed, or the error
   * that ends the stream (returned again on every later call).
   */
  next(): Envelope | EnvelopeError | null {
    if (this.#failed !== null) return this.#failed;
    if (this.#prefixFill < PREFIX_BYTES && !this.#fillPrefix()) return null;
    const p = this.#prefix;
    const flags = p[0];
    const length = ((p[1] << 24) | (p[2] << 16) | (p[3] << 8) | p[4]) >>> 0;
    if ((flags & ~this.#allowed) !== 0) {
      return this.#fail({
        error: "bad-flags",
        code: Status.INTERNAL,
        message: `Received message with invalid flags 0x${flags.toString(16)}`,
      });
    }
    // Checked before a byte of the body is held: a huge prefix costs nothing.
    if (length > this.#max) {
      return this.#fail({
        error: "too-large",
        code: Status.RESOURCE_EXHAUSTED,
        message: `Received message larger than max (${length} vs ${this.#max})`,
      });
    }
    const data = this.#takeBody(length);
    if (data === null) return null;
    this.#prefixFill = 0;
    return { flags, data };
  }

  /**
   * Call when the body has ended and `next()` has returned null: the error
   * if the body stopped inside a message, else null.
   */
  end(): EnvelopeError | null {
    if (this.#failed !== null) return this.#failed;
    if (!this.partial) return null;
    return this.#fail({
      error: "truncated",
      code: Status.INTERNAL,
      message: "Request stream ended in the middle of a message",
    });
  }

  #fail(error: EnvelopeError): EnvelopeError {
    this.#failed = error;
    this.#chunks = [];
    this.#prefixFill = 0;
    this.#body = null;
    return error;
  }

  #fillPrefix(): boolean {
    while (this.#prefixFill < PREFIX_BYTES && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const n = Math.min(PREFIX_BYTES - this.#prefixFill, chunk.length - this.#offset);
      for (let i = 0; i < n; i++) this.#prefix[this.#prefixFill++] = chunk[this.#offset++];
      this.#dropIfRead(chunk);
    }
    return this.#prefixFill === PREFIX_BYTES;
  }

  #takeBody(length: number): Uint8Array | null {
    if (this.#body === null) {
      if (length === 0) return EMPTY;
      const chunk = this.#chunks[0];
      if (chunk !== undefined && chunk.length - this.#offset >= length) {
        const data = chunk.subarray(this.#offset, this.#offset + length);
        this.#offset += length;
        this.#dropIfRead(chunk);
        return data;
      }
      this.#body = new Uint8Array(length);
      this.#bodyFill = 0;
    }
    const body = this.#body;
    while (this.#bodyFill < length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const n = Math.min(length - this.#bodyFill, chunk.length - this.#offset);
      body.set(chunk.subarray(this.#offset, this.#offset + n), this.#bodyFill);
      this.#bodyFill += n;
      this.#offset += n;
      this.#dropIfRead(chunk);
    }
    if (this.#bodyFill < length) return null;
    this.#body = null;
    return body;
  }

  #dropIfRead(chunk: Uint8Array): void {
    if (this.#offset === chunk.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Writes an envelope prefix for a message of `length` bytes at `offset` of
 * `target`: for writers that place the message themselves.
 *
 * @example
 * ```ts
 * const frame = new Uint8Array(5 + message.length);
 * writeEnvelopePrefix(frame, 0, 0, message.length);
 * frame.set(message, 5);
 * ```
 */
export function writeEnvelopePrefix(
  target: Uint8Array,
  offset: number,
  flags: number,
  length: number,
): void {
  target[offset] = flags;
  target[offset + 1] = length >>> 24;
  target[offset + 2] = (length >>> 16) & 0xff;
  target[offset + 3] = (length >>> 8) & 0xff;
  target[offset + 4] = length & 0xff;
}

/**
 * One enveloped message: prefix and `data` in one new buffer.
 *
 * @example
 * ```ts
 * const endStream = encodeEnvelope(FLAG_END_STREAM, new TextEncoder().encode("{}"));
 * ```
 */
export function encodeEnvelope(flags: number, data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(PREFIX_BYTES + data.length);
  writeEnvelopePrefix(frame, 0, flags, data.length);
  frame.set(data, PREFIX_BYTES);
  return frame;
}
