/**
 * The output side of one HTTP/2 connection: frames are encoded into one
 * OutputBuffer, and everything produced in one turn of the event loop
 * leaves in ONE socket write, scheduled with setImmediate. That batching is
 * where the speed over node:http2 comes from.
 *
 * Also the writer's backpressure both ways (input stops while too much is
 * queued; handlers wait while their stream's queue is high), the progress
 * the keepalive tick checks for a client that stopped reading, and the
 * orderly end: close once the output is written, within a bound.
 * @module
 */
import { setImmediate } from "node:timers";
import type { H2Stream } from "./h2_stream.ts";
import { DEFAULT_MAX_FRAME_SIZE, Flag, FrameType } from "./frame.ts";
import { type HeaderField, HpackEncoder } from "./hpack/mod.ts";
import type { NativeLimits } from "./limits.ts";
import { OutputBuffer } from "./output_buffer.ts";
import type { ByteSocket } from "./socket.ts";

/** A stream's queued DATA above which `write()` makes the handler wait. */
export const STREAM_HIGH_WATER = 64 * 1024;

const utf8 = new TextEncoder();

/** Encodes frames and writes them out, batched per event-loop turn. */
export class OutputWriter {
  /** Frames not yet written. Whoever appends to it calls `schedule()`. */
  readonly out: OutputBuffer = new OutputBuffer();
  /** The peer's SETTINGS_MAX_FRAME_SIZE: the largest payload we send. */
  peerMaxFrameSize: number = DEFAULT_MAX_FRAME_SIZE;

  readonly #socket: ByteSocket;
  readonly #maxOutputBytes: number;
  readonly #encoder = new HpackEncoder();
  /** Destroys the connection: when a write fails, and once closing is done. */
  readonly #destroy: () => void;
  /** Streams whose handlers wait for their queued output to fall. */
  readonly #writeWaiting = new Set<H2Stream>();
  #flushScheduled = false;
  #writing = false;
  /** Writes completed, and when the tick last saw that count change (or saw no write). */
  #writesDone = 0;
  #writesSeen = 0;
  #writeProgressAt = 0;
  #inFlightBytes = 0;
  #readPaused = false;
  #closing = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(socket: ByteSocket, limits: NativeLimits, destroy: () => void) {
    this.#socket = socket;
    this.#maxOutputBytes = limits.maxOutputBytes;
    this.#destroy = destroy;
  }

  /** The connection is closing: no more input is read, the output is being finished. */
  get closing(): boolean {
    return this.#closing;
  }

  /** The connection is closed: nothing more is written. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Output not yet handed to the kernel: buffered, plus the write in flight. */
  get bytes(): number {
    return this.out.length + this.#inFlightBytes;
  }

  // ------------------------------------------------------------------ frames

  /** HEADERS (and CONTINUATION beyond the peer's frame size); END_STREAM when `end`. */
  headers(streamId: number, fields: readonly HeaderField[], end: boolean): void {
    // Copied into `out` below, before the encoder runs again.
    const block = this.#encoder.encodeTransient(fields);
    const max = this.peerMaxFrameSize;
    const endFlag = end ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      this.out.frameHeader(block.length, FrameType.HEADERS, Flag.END_HEADERS | endFlag, streamId);
      this.out.bytes(block);
    } else {
      for (let p = 0; p < block.length; p += max) {
        const last = p + max >= block.length;
        const type = p === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
        const flags = (p === 0 ? endFlag : 0) | (last ? Flag.END_HEADERS : 0);
        this.out.frame(type, flags, streamId, block.subarray(p, Math.min(p + max, block.length)));
      }
    }
    this.schedule();
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE, for our HPACK encoder. */
  setHeaderTableSize(value: number): void {
    this.#encoder.setMaxTableSize(value);
  }

  windowUpdate(streamId: number, increment: number): void {
    this.out.frameHeader(4, FrameType.WINDOW_UPDATE, 0, streamId);
    this.out.u32(increment);
    this.schedule();
  }

  rstStream(streamId: number, code: number): void {
    this.out.frameHeader(4, FrameType.RST_STREAM, 0, streamId);
    this.out.u32(code);
    this.schedule();
  }

  goaway(lastStreamId: number, code: number, message: string): void {
    const debug = utf8.encode(message);
    this.out.frameHeader(8 + debug.length, FrameType.GOAWAY, 0, 0);
    this.out.u32(lastStreamId);
    this.out.u32(code);
    this.out.bytes(debug);
    this.schedule();
  }

  /** A keepalive PING, all-zero payload. */
  ping(): void {
    this.out.frameHeader(8, FrameType.PING, 0, 0);
    this.out.u32(0);
    this.out.u32(0);
    this.schedule();
  }

  /** Answers the PING whose payload is `b[s..e)`. */
  pingAck(b: Uint8Array, s: number, e: number): void {
    this.out.frame(FrameType.PING, Flag.ACK, 0, b.subarray(s, e));
    this.schedule();
  }

  settingsAck(): void {
    this.out.frameHeader(0, FrameType.SETTINGS, Flag.ACK, 0);
    this.schedule();
  }

  // ------------------------------------------------------------------ writing

  /** Writes the buffered output once this turn of the event loop is over. */
  schedule(): void {
    if (this.#flushScheduled || this.#writing || this.#closed) return;
    this.#flushScheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = async (): Promise<void> => {
    this.#flushScheduled = false;
    if (this.#writing || this.#closed) return;
    this.#writing = true;
    try {
      while (this.out.length > 0 && !this.#closed) {
        const bytes = this.out.take();
        this.#inFlightBytes = bytes.length;
        await this.#socket.write(bytes);
        this.#inFlightBytes = 0;
        this.#writesDone++;
        if (this.#closed) break;
        this.out.release(bytes);
        this.#afterWrite();
      }
    } catch {
      this.#writing = false;
      this.#destroy();
      return;
    }
    this.#writing = false;
    if (this.#closing) this.#destroy();
  };

  #afterWrite(): void {
    const limit = this.#maxOutputBytes;
    if (this.#readPaused && !this.#closing && this.bytes <= limit / 2) {
      this.#readPaused = false;
      this.#socket.resume();
    }
    if (this.#writeWaiting.size === 0 || this.bytes > limit) return;
    for (const call of this.#writeWaiting) {
      if (call.pendingBytes <= STREAM_HIGH_WATER / 2) this.wake(call);
    }
  }

  /**
   * Whether a write has been in flight, without completing, for more than
   * `timeout` ms of ticks. Called by the tick, which supplies `now`.
   */
  stuck(now: number, timeout: number): boolean {
    if (!this.#writing || this.#writesDone !== this.#writesSeen) {
      this.#writesSeen = this.#writesDone;
      this.#writeProgressAt = now;
      return false;
    }
    return now - this.#writeProgressAt > timeout;
  }

  // ------------------------------------------------------------- backpressure

  /** After input: a client that does not read its responses stops being read. */
  pauseReadingIfFull(): void {
    if (this.bytes > this.#maxOutputBytes) {
      this.#readPaused = true;
      this.#socket.pause();
    }
  }

  /** CallOwner.whenWritable: resolves once `call`'s queued output, and the connection's, are low. */
  whenWritable(call: H2Stream): Promise<void> | void {
    if (call.pendingBytes <= STREAM_HIGH_WATER && this.bytes <= this.#maxOutputBytes) return;
    if (call.ended) return;
    this.#writeWaiting.add(call);
    return new Promise<void>((resolve) => (call.drainWaiters ??= []).push(resolve));
  }

  /** Resolves what `whenWritable(call)` returned, if it is waiting. */
  wake(call: H2Stream): void {
    if (!this.#writeWaiting.delete(call)) return;
    const waiters = call.drainWaiters;
    call.drainWaiters = null;
    if (waiters) { for (const waiter of waiters) waiter(); }
  }

  // ------------------------------------------------------------------ closing

  /** Stops reading; closes once the output is written, or after `boundMs` regardless. */
  closeAfterFlush(boundMs: number): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.pause();
    // Bounded: a peer that never reads cannot hold the socket open.
    this.#closeTimer = setTimeout(this.#destroy, boundMs);
    if (!this.#writing && this.out.length === 0) this.#destroy();
    else this.schedule();
  }

  /** The connection is being destroyed: nothing more is scheduled or written. */
  stop(): void {
    this.#closed = true;
    this.#closing = true;
    clearTimeout(this.#closeTimer);
  }

  /** After `stop()`: wakes waiting handlers, closes the socket, and drops the buffers. */
  dispose(): void {
    for (const call of this.#writeWaiting) this.wake(call);
    this.#socket.close();
    // A closed connection may stay reachable (a handler still holding its
    // call, or the socket leak in socket.ts); its megabytes need not.
    this.out.dispose();
  }
}
