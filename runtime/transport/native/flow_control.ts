/**
 * HTTP/2 flow control (RFC 9113 §5.2, §6.9), both ways, for the connection
 * and its streams.
 *
 * Receiving: DATA is charged to the windows we granted; the bytes are given
 * back (WINDOW_UPDATE) once the handler has taken the messages they carry,
 * so a handler that stops reading stops its client.
 *
 * Sending: a message goes out as DATA as far as the peer's windows allow;
 * the rest waits on its stream and is pumped out as WINDOW_UPDATEs (or a
 * larger SETTINGS_INITIAL_WINDOW_SIZE) arrive, followed by the trailers.
 * @module
 */
import type { ReadonlyOpenStreams } from "./open_streams.ts";
import type { H2Stream } from "./h2_stream.ts";
import {
  ConnectionError,
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  FrameType,
  MAX_WINDOW,
  StreamError,
} from "./frame.ts";
import type { NativeLimits } from "./limits.ts";
import type { OutputBuffer } from "./output_buffer.ts";
import { ALWAYS_GRANTED_BYTES, type MemoryBudget } from "../../util/memory_budget.ts";
import { type OutputWriter, STREAM_HIGH_WATER } from "./output_writer.ts";

/** gRPC's message prefix: a flag byte and a 4-byte length. */
const PREFIX_BYTES = 5;
/** One connection may park at most 1/PARKED_SHARE of the memory budget. */
const PARKED_SHARE = 4;

/** The windows of one connection and the DATA waiting for them. */
export class FlowControl {
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE: each new stream's send window. */
  peerInitialWindow: number = DEFAULT_WINDOW;

  readonly #writer: OutputWriter;
  readonly #out: OutputBuffer;
  readonly #streams: ReadonlyOpenStreams<H2Stream>;
  /** The pump sent a stream's trailers (END_STREAM): the connection closes its side. */
  readonly #ended: (call: H2Stream) => void;
  readonly #connectionWindow: number;
  readonly #streamWindow: number;
  readonly #maxOutputBytes: number;
  /** Bytes we may still send on the connection. */
  #connSendWindow = DEFAULT_WINDOW;
  /** Bytes the peer may still send on the connection. */
  #connRecvWindow: number;
  /** Received bytes consumed but not yet announced in a connection WINDOW_UPDATE. */
  #connUnreleased = 0;
  /** Wire bytes of messages queued for handlers, over all streams (see release). */
  #queued = 0;
  /** Bytes reserved by streams for messages being assembled or awaiting dispatch. */
  #reserved = 0;
  /** Streams with DATA waiting for the connection window. */
  readonly #blocked = new Set<H2Stream>();
  /** The process's budget: what this connection holds is counted there too. */
  readonly #memory: MemoryBudget;
  /** Response bytes parked behind closed windows, over all streams. */
  #parked = 0;
  /** What one connection may park: a share of the budget, so one client cannot take all of it. */
  readonly #maxParked: number;

  constructor(
    limits: NativeLimits,
    writer: OutputWriter,
    streams: ReadonlyOpenStreams<H2Stream>,
    ended: (call: H2Stream) => void,
    memory: MemoryBudget,
  ) {
    this.#memory = memory;
    this.#maxParked = Math.max(limits.connectionWindowBytes, memory.limit / PARKED_SHARE);
    this.#writer = writer;
    this.#out = writer.out;
    this.#streams = streams;
    this.#ended = ended;
    this.#connectionWindow = limits.connectionWindowBytes;
    this.#streamWindow = limits.initialWindowBytes;
    this.#maxOutputBytes = limits.maxOutputBytes;
    this.#connRecvWindow = limits.connectionWindowBytes;
  }

  // ---------------------------------------------------------------- receiving

  /** Charges a DATA frame's `length` (padding included) to the connection window. */
  receive(length: number): void {
    this.#connRecvWindow -= length;
    if (this.#connRecvWindow < 0) {
      throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded");
    }
  }

  /** Charges the same frame to `call`'s window; its bytes are then the call's to release. */
  receiveOnStream(call: H2Stream, length: number): void {
    call.recvWindow -= length;
    if (call.recvWindow < 0) {
      this.releaseConnection(length);
      throw new StreamError(call.id, ErrorCode.FLOW_CONTROL_ERROR, "stream window exceeded");
    }
    call.unreleased += length;
  }

  /**
   * CallOwner.release: gives back as window every received byte that is not
   * part of a message still queued for the handler. A handler that stops
   * reading thus stops its client, and one connection's buffered requests
   * stay within the connection window.
   */
  release(call: H2Stream): void {
    // A closed stream's bytes were given back when it closed (closed, dispose).
    if (this.#streams.get(call.id) !== call) return;
    const held = call.heldBytes - call.heldCounted;
    if (held !== 0) {
      this.#queued += held;
      call.heldCounted = call.heldBytes;
      // Bounded by the windows already: counted in the budget, never refused there.
      this.#memory.charge(held);
    }
    const amount = call.unreleased - call.heldBytes;
    if (amount <= 0) return;
    call.unreleased -= amount;
    this.releaseConnection(amount);
    if (call.remoteClosed) return;
    call.windowCredit += amount;
    // Top the stream window up once half of it is used: fewer WINDOW_UPDATE frames.
    if (call.windowCredit >= this.#streamWindow / 2) {
      call.recvWindow += call.windowCredit;
      this.#writer.windowUpdate(call.id, call.windowCredit);
      call.windowCredit = 0;
    }
  }

  /**
   * CallOwner.reserve: what one connection makes the server hold (queued
   * messages plus reservations) stays within connectionWindowBytes, give or
   * take the frame being read. Refused rather than waited for, so streams
   * cannot deadlock one another over the connection's share.
   */
  reserve(call: H2Stream, bytes: number): boolean {
    if (this.#reserved + this.#queued + bytes > this.#connectionWindow) return false;
    if (!this.#memory.take(bytes)) return false;
    this.#reserved += bytes;
    call.reservedBytes += bytes;
    return true;
  }

  /** CallOwner.unreserve. */
  unreserve(call: H2Stream): void {
    if (call.reservedBytes === 0) return;
    this.#memory.give(call.reservedBytes);
    this.#reserved -= call.reservedBytes;
    call.reservedBytes = 0;
  }

  /** Gives `bytes` back to the connection window, announcing it once enough has gathered. */
  releaseConnection(bytes: number): void {
    this.#connUnreleased += bytes;
    if (this.#connUnreleased === 0) return;
    const target = this.#connectionWindow;
    if (this.#connUnreleased >= target / 2 || this.#connRecvWindow < target / 2) {
      this.#connRecvWindow += this.#connUnreleased;
      this.#writer.windowUpdate(0, this.#connUnreleased);
      this.#connUnreleased = 0;
    }
  }

  // ------------------------------------------------------------------ sending

  /**
   * CallOwner.sendMessage: one message, sent as far as the windows allow and
   * queued beyond. False when it would have to wait for window and there is
   * no room to park it (issue 19: 300 calls of 1 MiB to a client with
   * INITIAL_WINDOW_SIZE=0 held 604 MiB); the call then fails.
   */
  send(call: H2Stream, body: Uint8Array, flag: number): boolean {
    const length = body.length;
    const size = PREFIX_BYTES + length;
    // The common case: nothing queued and room for all of it, straight into
    // the output, split into frames there (no framed copy of the message).
    if (call.pending.length === 0 && size <= call.sendWindow && size <= this.#connSendWindow) {
      const out = this.#out;
      const max = this.#writer.peerMaxFrameSize;
      const first = Math.min(length, max - PREFIX_BYTES);
      out.frameHeader(PREFIX_BYTES + first, FrameType.DATA, 0, call.id);
      out.u8(flag);
      out.u32(length);
      out.bytes(first === length ? body : body.subarray(0, first));
      for (let p = first; p < length; p += max) {
        const end = Math.min(p + max, length);
        out.frameHeader(end - p, FrameType.DATA, 0, call.id);
        out.bytes(body.subarray(p, end));
      }
      call.sendWindow -= size;
      this.#connSendWindow -= size;
      this.#writer.schedule();
      return true;
    }
    if (this.#parked + size > this.#maxParked && size >= ALWAYS_GRANTED_BYTES) return false;
    if (!this.#memory.take(size)) return false;
    this.#parked += size;
    call.parkedBytes += size;
    const framed = new Uint8Array(size);
    framed[0] = flag;
    framed[1] = length >>> 24;
    framed[2] = (length >>> 16) & 0xff;
    framed[3] = (length >>> 8) & 0xff;
    framed[4] = length & 0xff;
    framed.set(body, PREFIX_BYTES);
    call.pending.push(framed);
    call.pendingBytes += size;
    this.pump(call);
    return true;
  }

  /**
   * Body bytes as they are, without gRPC's prefix (the web protocols frame
   * their own): sent as far as the windows allow, parked beyond, false when
   * there is no room to park them (see send).
   */
  sendRaw(call: H2Stream, body: Uint8Array): boolean {
    const length = body.length;
    if (length === 0) return true;
    if (call.pending.length === 0 && length <= call.sendWindow && length <= this.#connSendWindow) {
      const out = this.#out;
      const max = this.#writer.peerMaxFrameSize;
      for (let p = 0; p < length; p += max) {
        const end = Math.min(p + max, length);
        out.frameHeader(end - p, FrameType.DATA, 0, call.id);
        out.bytes(p === 0 && end === length ? body : body.subarray(p, end));
      }
      call.sendWindow -= length;
      this.#connSendWindow -= length;
      this.#writer.schedule();
      return true;
    }
    if (this.#parked + length > this.#maxParked && length >= ALWAYS_GRANTED_BYTES) return false;
    if (!this.#memory.take(length)) return false;
    this.#parked += length;
    call.parkedBytes += length;
    call.pending.push(body.slice());
    call.pendingBytes += length;
    this.pump(call);
    return true;
  }

  /**
   * Sends `call`'s queued DATA as far as the windows allow, then its
   * trailers once nothing is queued.
   */
  pump(call: H2Stream): void {
    const out = this.#out;
    const writer = this.#writer;
    while (call.pending.length > 0) {
      const window = Math.min(call.sendWindow, this.#connSendWindow);
      if (window <= 0) {
        if (this.#connSendWindow <= 0) this.#blocked.add(call);
        break;
      }
      const chunk = call.pending[0];
      const offset = call.pendingOffset;
      const n = Math.min(chunk.length - offset, window, writer.peerMaxFrameSize);
      out.frameHeader(n, FrameType.DATA, 0, call.id);
      out.bytes(offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n));
      call.sendWindow -= n;
      this.#connSendWindow -= n;
      call.pendingBytes -= n;
      if (offset + n === chunk.length) {
        call.pending.shift();
        call.pendingOffset = 0;
      } else call.pendingOffset = offset + n;
    }
    if (call.parkedBytes > call.pendingBytes) {
      this.#unpark(call, call.parkedBytes - call.pendingBytes);
    }
    if (
      call.drainWaiters !== null && call.pendingBytes <= STREAM_HIGH_WATER / 2 &&
      writer.bytes <= this.#maxOutputBytes
    ) writer.wake(call);
    if (call.pending.length === 0 && call.trailers !== null) {
      const trailers = call.trailers;
      call.trailers = null;
      if (trailers.length > 0) writer.headers(call.id, trailers, true);
      else this.#out.frameHeader(0, FrameType.DATA, Flag.END_STREAM, call.id);
      call.localClosed = true;
      this.#ended(call);
    }
    writer.schedule();
  }

  /** The stream is closed: its queued DATA is dropped, and the window of what it never read given back. */
  closed(call: H2Stream): void {
    this.#blocked.delete(call);
    // Requests still queued for the handler will never be read: give their window back.
    this.releaseConnection(call.unreleased);
    call.unreleased = 0;
    this.#queued -= call.heldCounted;
    this.#memory.give(call.heldCounted);
    call.heldBytes = 0;
    call.heldCounted = 0;
    this.unreserve(call);
    call.pending = [];
    call.pendingBytes = 0;
    if (call.parkedBytes > 0) this.#unpark(call, call.parkedBytes);
  }

  /** The connection is gone: what its open streams held goes back to the memory budget. */
  dispose(): void {
    for (const call of this.#streams.values()) {
      this.#memory.give(call.heldCounted + call.reservedBytes + call.parkedBytes);
      this.#queued -= call.heldCounted;
      this.#reserved -= call.reservedBytes;
      this.#parked -= call.parkedBytes;
      call.heldCounted =
        call.heldBytes =
        call.reservedBytes =
        call.parkedBytes =
          0;
      call.pending = [];
      call.pendingBytes = 0;
    }
  }

  #unpark(call: H2Stream, bytes: number): void {
    call.parkedBytes -= bytes;
    this.#parked -= bytes;
    this.#memory.give(bytes);
  }

  // ------------------------------------------------------------ peer's windows

  /** WINDOW_UPDATE on stream 0: more connection window, for the streams waiting for it. */
  connectionWindowUpdate(increment: number): void {
    if (increment === 0) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    }
    this.#connSendWindow += increment;
    if (this.#connSendWindow > MAX_WINDOW) {
      throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow");
    }
    for (const call of [...this.#blocked]) {
      this.#blocked.delete(call);
      this.pump(call);
    }
  }

  /** WINDOW_UPDATE on an open stream. */
  streamWindowUpdate(call: H2Stream, increment: number): void {
    if (increment === 0) throw new StreamError(call.id, ErrorCode.PROTOCOL_ERROR, "increment 0");
    call.sendWindow += increment;
    if (call.sendWindow > MAX_WINDOW) {
      throw new StreamError(call.id, ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow");
    }
    this.pump(call);
  }

  /** SETTINGS_INITIAL_WINDOW_SIZE: every open stream's window moves by the change. */
  setPeerInitialWindow(value: number): void {
    if (value > MAX_WINDOW) {
      throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE too large");
    }
    const delta = value - this.peerInitialWindow;
    this.peerInitialWindow = value;
    if (delta === 0) return;
    for (const call of this.#streams.values()) {
      call.sendWindow += delta;
      if (call.sendWindow > MAX_WINDOW) {
        throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow");
      }
    }
    if (delta > 0) { for (const call of this.#streams.values()) this.pump(call); }
  }
}
