/**
 * Request bodies off the wire: Content-Length counted, or chunked transfer
 * coding decoded (RFC 9112 §7.1) as bytes arrive, never buffered whole. The
 * chunked side is strict and bounded: hex sizes of at most 12 significant
 * digits (so no parser can overflow them into another number), CRLF exactly
 * where the grammar puts it, each size line (extensions included) at most
 * {@link MAX_CHUNK_LINE_BYTES} and all extensions of a body at most
 * {@link MAX_CHUNK_EXTENSION_BYTES} (CVE-2024-22019 made Node bound them),
 * and trailers bounded like a head and then discarded.
 * @module
 */
import { Http1ProtocolError } from "./errors.ts";
import type { BodyFraming } from "./framing.ts";

/** Longest chunk-size line, CRLF excluded. */
export const MAX_CHUNK_LINE_BYTES = 1024;
/** Chunk extension bytes allowed over one body. */
export const MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;
/** Significant hex digits of a chunk size: 12 is 2^48, past any body limit, short of overflow. */
const MAX_SIZE_DIGITS = 12;

const CR = 0x0d;
const LF = 0x0a;

/** Decodes one request body; reusable for none of the next. */
export interface BodyDecoder {
  /**
   * Consumes what it can of `bytes`, handing decoded data to `onData` (a
   * view into `bytes`: copy it to keep it). Returns the bytes consumed;
   * stops at the body's end, leaving what follows (a pipelined request).
   * Throws {@link Http1ProtocolError}: 400 for bad framing, 413 past the limit.
   */
  decode(bytes: Uint8Array, onData: (data: Uint8Array) => void): number;
  /** The whole body has been decoded. */
  readonly done: boolean;
}

/**
 * A decoder for `framing`.
 *
 * @example
 * ```ts
 * const decoder = createBodyDecoder({ kind: "chunked" }, 1024, 8192, 100);
 * decoder.decode(new TextEncoder().encode("3\r\nabc\r\n0\r\n\r\n"), (d) => console.log(d));
 * decoder.done; // true
 * ```
 */
export function createBodyDecoder(
  framing: BodyFraming,
  maxBodyBytes: number,
  maxTrailerBytes: number,
  maxTrailerCount: number,
): BodyDecoder {
  if (framing.kind === "length") return new _LengthDecoder(framing.length);
  if (framing.kind === "chunked") {
    return new _ChunkedDecoder(maxBodyBytes, maxTrailerBytes, maxTrailerCount);
  }
  return { decode: () => 0, done: true };
}

class _LengthDecoder implements BodyDecoder {
  #remaining: number;

  constructor(length: number) {
    this.#remaining = length;
  }

  get done(): boolean {
    return this.#remaining === 0;
  }

  decode(bytes: Uint8Array, onData: (data: Uint8Array) => void): number {
    const count = Math.min(this.#remaining, bytes.length);
    if (count === 0) return 0;
    this.#remaining -= count;
    onData(bytes.subarray(0, count));
    return count;
  }
}

const enum State {
  Size,
  Data,
  DataEnd,
  Trailer,
  Done,
}

class _ChunkedDecoder implements BodyDecoder {
  readonly #maxBodyBytes: number;
  readonly #maxTrailerBytes: number;
  readonly #maxTrailerCount: number;
  #state = State.Size;
  /** The line being read (size line or trailer line), as text; bounded. */
  #line = "";
  #lineEndsWithCr = false;
  #remaining = 0;
  #received = 0;
  #extensionBytes = 0;
  #trailerBytes = 0;
  #trailerCount = 0;

  constructor(maxBodyBytes: number, maxTrailerBytes: number, maxTrailerCount: number) {
    this.#maxBodyBytes = maxBodyBytes;
    this.#maxTrailerBytes = maxTrailerBytes;
    this.#maxTrailerCount = maxTrailerCount;
  }

  get done(): boolean {
    return this.#state === State.Done;
  }

  decode(bytes: Uint8Array, onData: (data: Uint8Array) => void): number {
    let i = 0;
    while (i < bytes.length && this.#state !== State.Done) {
      switch (this.#state) {
        case State.Data: {
          const count = Math.min(this.#remaining, bytes.length - i);
          onData(bytes.subarray(i, i + count));
          i += count;
          this.#remaining -= count;
          if (this.#remaining === 0) this.#state = State.DataEnd;
          break;
        }
        case State.DataEnd:
          // Chunk data is followed by exactly CRLF (RFC 9112 §7.1).
          i = this.#expectCrlf(bytes, i);
          break;
        default:
          i = this.#readLine(bytes, i);
      }
    }
    return i;
  }

  /** Consumes the CRLF after chunk data, possibly split over reads. */
  #expectCrlf(bytes: Uint8Array, i: number): number {
    if (!this.#lineEndsWithCr) {
      if (bytes[i] !== CR) throw new Http1ProtocolError(400, "chunk data not followed by CRLF");
      this.#lineEndsWithCr = true;
      return i + 1;
    }
    if (bytes[i] !== LF) throw new Http1ProtocolError(400, "chunk data not followed by CRLF");
    this.#lineEndsWithCr = false;
    this.#state = State.Size;
    return i + 1;
  }

  /** Reads a size or trailer line up to its CRLF; returns where it stopped. */
  #readLine(bytes: Uint8Array, i: number): number {
    for (; i < bytes.length; i++) {
      const byte = bytes[i];
      if (this.#lineEndsWithCr) {
        if (byte !== LF) throw new Http1ProtocolError(400, "bare CR in chunked framing");
        this.#lineEndsWithCr = false;
        const line = this.#line;
        this.#line = "";
        if (this.#state === State.Size) this.#onSizeLine(line);
        else this.#onTrailerLine(line);
        return i + 1;
      }
      if (byte === CR) {
        this.#lineEndsWithCr = true;
        continue;
      }
      if (byte === LF) throw new Http1ProtocolError(400, "bare LF in chunked framing");
      this.#line += String.fromCharCode(byte);
      if (this.#state === State.Size && this.#line.length > MAX_CHUNK_LINE_BYTES) {
        throw new Http1ProtocolError(400, "chunk size line too long");
      }
      if (this.#state === State.Trailer && ++this.#trailerBytes > this.#maxTrailerBytes) {
        throw new Http1ProtocolError(431, "trailer section too large");
      }
    }
    return i;
  }

  #onSizeLine(line: string): void {
    const match = /^([0-9A-Fa-f]+)([ \t]*;.*)?$/.exec(line);
    if (match === null) throw new Http1ProtocolError(400, "invalid chunk size");
    const digits = match[1].replace(/^0+(?=.)/, "");
    if (digits.length > MAX_SIZE_DIGITS) throw new Http1ProtocolError(400, "chunk size overflow");
    const extension = match[2] ?? "";
    if (/[^\t\x20-\x7e\x80-\xff]/.test(extension)) {
      throw new Http1ProtocolError(400, "invalid chunk extension");
    }
    this.#extensionBytes += extension.length;
    if (this.#extensionBytes > MAX_CHUNK_EXTENSION_BYTES) {
      throw new Http1ProtocolError(400, "too many chunk extension bytes");
    }
    const size = parseInt(digits, 16);
    if (size === 0) {
      this.#state = State.Trailer;
      return;
    }
    this.#received += size;
    // Checked from the size line, before the chunk's data is read.
    if (this.#received > this.#maxBodyBytes) throw new Http1ProtocolError(413, "body too large");
    this.#remaining = size;
    this.#state = State.Data;
  }

  #onTrailerLine(line: string): void {
    if (line === "") {
      this.#state = State.Done;
      return;
    }
    // Trailers are discarded (RFC 9112 §7.1.2 allows it), but must still be well-formed fields.
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/.test(line)) {
      throw new Http1ProtocolError(400, "invalid trailer field");
    }
    if (++this.#trailerCount > this.#maxTrailerCount) {
      throw new Http1ProtocolError(431, "too many trailer fields");
    }
  }
}
