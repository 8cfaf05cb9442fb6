/**
 * The bytes a connection has produced but not yet written: frames append
 * here, and the whole buffer leaves in one socket write.
 * @module
 */
import { FRAME_HEADER_BYTES } from "./frame.ts";

const INITIAL_BYTES = 16 * 1024;
const KEEP_BYTES = 4 * 1024 * 1024;

/** A growable byte buffer with HTTP/2 frame helpers. */
export class OutputBuffer {
  #buf: Uint8Array = new Uint8Array(INITIAL_BYTES);
  #spare: Uint8Array | null = new Uint8Array(INITIAL_BYTES);
  #len = 0;

  /** Bytes waiting to be taken. */
  get length(): number {
    return this.#len;
  }

  /** Appends a frame: the 9-byte header, then `payload` if given. */
  frame(type: number, flags: number, streamId: number, payload?: Uint8Array): void {
    this.frameHeader(payload ? payload.length : 0, type, flags, streamId);
    if (payload) this.bytes(payload);
  }

  /** Appends a frame header for a payload of `length` bytes the caller appends next. */
  frameHeader(length: number, type: number, flags: number, streamId: number): void {
    this.#reserve(FRAME_HEADER_BYTES + length);
    const b = this.#buf, p = this.#len;
    b[p] = length >>> 16;
    b[p + 1] = (length >>> 8) & 0xff;
    b[p + 2] = length & 0xff;
    b[p + 3] = type;
    b[p + 4] = flags;
    b[p + 5] = (streamId >>> 24) & 0x7f;
    b[p + 6] = (streamId >>> 16) & 0xff;
    b[p + 7] = (streamId >>> 8) & 0xff;
    b[p + 8] = streamId & 0xff;
    this.#len = p + FRAME_HEADER_BYTES;
  }

  /** Appends raw bytes. */
  bytes(src: Uint8Array): void {
    this.#reserve(src.length);
    this.#buf.set(src, this.#len);
    this.#len += src.length;
  }

  /** Appends a big-endian u32. */
  u32(value: number): void {
    this.#reserve(4);
    const b = this.#buf, p = this.#len;
    b[p] = value >>> 24;
    b[p + 1] = (value >>> 16) & 0xff;
    b[p + 2] = (value >>> 8) & 0xff;
    b[p + 3] = value & 0xff;
    this.#len = p + 4;
  }

  /** Appends one byte. */
  u8(value: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = value;
  }

  /**
   * Hands over everything buffered. The view stays valid until `release()`
   * is called with it; meanwhile new frames go to a second buffer, so a
   * write in flight never sees its bytes change.
   */
  take(): Uint8Array {
    const out = this.#buf.subarray(0, this.#len);
    this.#buf = this.#spare ?? new Uint8Array(INITIAL_BYTES);
    this.#spare = null;
    this.#len = 0;
    return out;
  }

  /** Gives back a view from `take()` once written, so its memory is reused. */
  release(taken: Uint8Array): void {
    // Kept at the size it grew to (large messages would otherwise grow a new
    // one by doubling on every turn), up to a bound; bigger ones are dropped.
    if (taken.buffer.byteLength <= KEEP_BYTES) this.#spare = new Uint8Array(taken.buffer);
  }

  /** Drops both buffers, for a closed connection; a later append starts a small one again. */
  dispose(): void {
    this.#buf = new Uint8Array(0);
    this.#spare = null;
    this.#len = 0;
  }

  #reserve(n: number): void {
    const need = this.#len + n;
    if (need <= this.#buf.length) return;
    let size = Math.max(this.#buf.length * 2, INITIAL_BYTES);
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }
}
