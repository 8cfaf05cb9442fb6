/**
 * The input side of one HTTP/2 connection: bytes in, frames out.
 *
 * Checks the client preface (the magic string, then SETTINGS: RFC 9113
 * §3.4), cuts the byte stream into frames, wherever the reads split them,
 * and joins HEADERS and its CONTINUATIONs into one header block, decoded
 * here so the HPACK table stays in sync whatever becomes of the stream.
 * What the frames mean is the connection's.
 * @module
 */
import {
  ConnectionError,
  ErrorCode,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  PREFACE,
  readU32,
} from "./frame.ts";
import type { FloodLimits } from "./flood_limits.ts";
import { type DecodeResult, HpackDecoder, HpackError } from "./hpack/mod.ts";
import type { NativeLimits } from "./limits.ts";

/**
 * Handles one frame other than HEADERS and CONTINUATION; its payload is
 * `bytes[start..end)`, valid only during the call. Returns false to stop
 * reading for good (the connection is closing).
 */
export type FrameHandler = (
  type: number,
  flags: number,
  streamId: number,
  bytes: Uint8Array,
  start: number,
  end: number,
) => boolean;

/** Handles one whole header block; returns false to stop reading for good. */
export type HeaderBlockHandler = (
  streamId: number,
  endStream: boolean,
  /** The HEADERS frame made the stream depend on itself (a stream error, RFC 9113 §5.3.1). */
  badPriority: boolean,
  decoded: DecodeResult,
) => boolean;

/** A header block whose CONTINUATION frames are still arriving. */
interface HeaderBlock {
  streamId: number;
  endStream: boolean;
  badPriority: boolean;
  chunks: Uint8Array[];
  size: number;
}

/** Turns a connection's input into frames and header blocks. Throws ConnectionError. */
export class FrameReader {
  readonly #maxFrameBytes: number;
  readonly #decoder: HpackDecoder;
  readonly #flood: FloodLimits;
  readonly #onFrame: FrameHandler;
  readonly #onHeaderBlock: HeaderBlockHandler;
  #prefaceMatched = 0;
  #settingsReceived = false;
  /** A frame split across reads: its bytes so far. Frames never keep views into it. */
  #partial: Uint8Array | null = null;
  #partialLength = 0;
  #headerBlock: HeaderBlock | null = null;
  /** A handler returned false. */
  #stopped = false;

  constructor(
    limits: NativeLimits,
    flood: FloodLimits,
    onFrame: FrameHandler,
    onHeaderBlock: HeaderBlockHandler,
  ) {
    this.#maxFrameBytes = limits.maxFrameBytes;
    this.#decoder = new HpackDecoder({
      maxTableSize: 4096,
      maxHeaderListSize: limits.maxHeaderListBytes,
    });
    this.#flood = flood;
    this.#onFrame = onFrame;
    this.#onHeaderBlock = onHeaderBlock;
  }

  /** Whether the client's first SETTINGS has arrived, completing its preface. */
  get settingsReceived(): boolean {
    return this.#settingsReceived;
  }

  /** Reads `chunk`, which may be reused once this returns. Throws ConnectionError. */
  read(chunk: Uint8Array): void {
    let p = 0;
    if (this.#prefaceMatched < PREFACE.length) {
      p = this.#matchPreface(chunk);
      if (this.#prefaceMatched < PREFACE.length) return;
    }
    // A frame split across reads is completed first, copying only its own bytes.
    if (this.#partialLength > 0) {
      p = this.#completePartial(chunk, p);
      if (this.#partialLength > 0 || this.#stopped) return;
    }
    while (chunk.length - p >= FRAME_HEADER_BYTES && !this.#stopped) {
      const length = this.#frameLength(chunk, p);
      const start = p + FRAME_HEADER_BYTES;
      if (chunk.length - start < length) break;
      const streamId = readU32(chunk, p + 5) & 0x7fffffff;
      this.#frame(chunk[p + 3], chunk[p + 4], streamId, chunk, start, start + length);
      p = start + length;
    }
    // The chunk may be reused by the socket: keep a copy of the partial frame.
    if (p < chunk.length && !this.#stopped) this.#keepPartial(chunk, p, chunk.length);
  }

  /** Drops the buffer of a split frame, for a closed connection. */
  dispose(): void {
    this.#partial = null;
    this.#partialLength = 0;
  }

  #matchPreface(data: Uint8Array): number {
    let p = 0;
    while (p < data.length && this.#prefaceMatched < PREFACE.length) {
      if (data[p] !== PREFACE[this.#prefaceMatched]) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "invalid connection preface");
      }
      p++;
      this.#prefaceMatched++;
    }
    return p;
  }

  /** The payload length in the frame header at `p`; throws if over our SETTINGS_MAX_FRAME_SIZE. */
  #frameLength(bytes: Uint8Array, p: number): number {
    const length = (bytes[p] << 16) | (bytes[p + 1] << 8) | bytes[p + 2];
    const max = this.#maxFrameBytes;
    if (length > max) {
      throw new ConnectionError(
        ErrorCode.FRAME_SIZE_ERROR,
        `frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${max}`,
      );
    }
    return length;
  }

  #keepPartial(bytes: Uint8Array, from: number, to: number): void {
    const n = to - from;
    let buffer = this.#partial;
    if (buffer === null || buffer.length < this.#partialLength + n) {
      const grown = new Uint8Array(
        Math.max(this.#partialLength + n, FRAME_HEADER_BYTES + this.#maxFrameBytes),
      );
      if (buffer !== null) grown.set(buffer.subarray(0, this.#partialLength));
      this.#partial = buffer = grown;
    }
    buffer.set(bytes.subarray(from, to), this.#partialLength);
    this.#partialLength += n;
  }

  /** Appends the rest of the pending frame from `chunk` at `p`; handles it when whole. */
  #completePartial(chunk: Uint8Array, p: number): number {
    if (this.#partialLength < FRAME_HEADER_BYTES) {
      const take = Math.min(FRAME_HEADER_BYTES - this.#partialLength, chunk.length - p);
      this.#keepPartial(chunk, p, p + take);
      p += take;
      if (this.#partialLength < FRAME_HEADER_BYTES) return p;
    }
    const buffer = this.#partial!;
    const total = FRAME_HEADER_BYTES + this.#frameLength(buffer, 0);
    const take = Math.min(total - this.#partialLength, chunk.length - p);
    this.#keepPartial(chunk, p, p + take);
    p += take;
    if (this.#partialLength < total) return p;
    this.#partialLength = 0;
    const streamId = readU32(buffer, 5) & 0x7fffffff;
    this.#frame(buffer[3], buffer[4], streamId, buffer, FRAME_HEADER_BYTES, total);
    return p;
  }

  #frame(type: number, flags: number, streamId: number, b: Uint8Array, s: number, e: number) {
    if (this.#headerBlock !== null && type !== FrameType.CONTINUATION) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "expected CONTINUATION");
    }
    if (!this.#settingsReceived) {
      if (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "first frame must be SETTINGS");
      }
      this.#settingsReceived = true;
    }
    let more;
    if (type === FrameType.HEADERS) more = this.#onHeaders(flags, streamId, b, s, e);
    else if (type === FrameType.CONTINUATION) more = this.#onContinuation(flags, streamId, b, s, e);
    else more = this.#onFrame(type, flags, streamId, b, s, e);
    if (!more) this.#stopped = true;
  }

  #onHeaders(flags: number, streamId: number, b: Uint8Array, s: number, e: number): boolean {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
    let start = s, end = e, badPriority = false;
    if (flags & Flag.PADDED) {
      if (e - s < 1) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short");
      end = e - b[s];
      start = s + 1;
    }
    if (flags & Flag.PRIORITY) {
      // Too short for the priority fields is a size error; padding that eats into them
      // is a PROTOCOL_ERROR, caught below (RFC 9113 §6.2).
      if (e - start < 5) {
        throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short");
      }
      badPriority = (readU32(b, start) & 0x7fffffff) === streamId;
      start += 5;
    }
    if (end < start) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "padding exceeds HEADERS");
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (flags & Flag.END_HEADERS) {
      return this.#onHeaderBlock(streamId, endStream, badPriority, this.#decode(b, start, end));
    }
    if (end === start) this.#flood.controlFrame();
    this.#headerBlock = {
      streamId,
      endStream,
      badPriority,
      chunks: [b.slice(start, end)],
      size: end - start,
    };
    return true;
  }

  #onContinuation(flags: number, streamId: number, b: Uint8Array, s: number, e: number): boolean {
    const block = this.#headerBlock;
    if (block === null || block.streamId !== streamId) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION");
    }
    if (e === s) this.#flood.controlFrame();
    block.size += e - s;
    this.#flood.headerBlock(block.size, block.chunks.length);
    block.chunks.push(b.slice(s, e));
    if ((flags & Flag.END_HEADERS) === 0) return true;
    this.#headerBlock = null;
    const whole = new Uint8Array(block.size);
    let p = 0;
    for (const chunk of block.chunks) {
      whole.set(chunk, p);
      p += chunk.length;
    }
    const decoded = this.#decode(whole, 0, whole.length);
    return this.#onHeaderBlock(streamId, block.endStream, block.badPriority, decoded);
  }

  #decode(b: Uint8Array, s: number, e: number): DecodeResult {
    try {
      return this.#decoder.decode(b, s, e);
    } catch (error) {
      if (!(error instanceof HpackError)) throw error;
      throw new ConnectionError(ErrorCode.COMPRESSION_ERROR, `bad header block: ${error.message}`);
    }
  }
}
