/**
 * One HTTP/2 server connection (RFC 9113): frames in, frames out, flow
 * control both ways, stream lifecycle, and the limits that keep a hostile
 * client from costing more than one connection. gRPC lives in call.ts.
 *
 * Every frame produced while handling input, or by calls finishing in the
 * same turn of the event loop, leaves in one socket write: that batching is
 * where the speed over node:http2 comes from.
 * @module
 */
import { setImmediate } from "node:timers";
import { Status } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import { TokenBucket } from "../../util/token_bucket.ts";
import type { PeerCertificate } from "../../core/peer.ts";
import type { Route, TransportCall } from "../types.ts";
import { type CallOwner, NativeCall } from "./call.ts";
import { ACCEPTED_ENCODINGS, parseEncoding } from "./compression.ts";
import {
  ConnectionError,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  errorName,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  MAX_WINDOW,
  PREFACE,
  readU32,
  Setting,
  StreamError,
} from "./frame.ts";
import { encodeStatusMessage, parseTimeout } from "./grpc_wire.ts";
import { type HeaderField, HpackDecoder, HpackEncoder, HpackError } from "./hpack/mod.ts";
import type { NativeLimits } from "./limits.ts";
import { OutputBuffer } from "./output_buffer.ts";
import type { ByteSocket } from "./socket.ts";
import { StreamFate, StreamHistory } from "./stream_history.ts";
import { validateRequestHeaders, validateTrailers } from "./request_headers.ts";

/** gRPC's message prefix: a flag byte and a 4-byte length. */
const PREFIX_BYTES = 5;
/** A stream's queued DATA above which `write()` makes the handler wait. */
const STREAM_HIGH_WATER = 64 * 1024;
/** Longest request value (path, content-type) echoed in an error message. */
const ECHO_MAX = 128;
/** Header block fragments accepted before the block counts as a flood. */
const MAX_CONTINUATIONS = 64;

/** What a connection needs from its server. */
export interface ConnectionOptions {
  readonly routes: ReadonlyMap<string, Route>;
  readonly onCall: (call: TransportCall) => void;
  readonly limits: NativeLimits;
  readonly log: Logger;
  /** Called once, when the socket is closed. */
  readonly onClose: (connection: Http2Connection) => void;
}

interface HeaderBlock {
  streamId: number;
  endStream: boolean;
  badPriority: boolean;
  chunks: Uint8Array[];
  size: number;
}

/** A server-side HTTP/2 connection over one socket. */
export class Http2Connection implements CallOwner {
  readonly peer: string;
  readonly peerCertificate: PeerCertificate | null;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;

  readonly #socket: ByteSocket;
  readonly #options: ConnectionOptions;
  readonly #limits: NativeLimits;
  readonly #out = new OutputBuffer();
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  readonly #streams = new Map<number, NativeCall>();
  readonly #history = new StreamHistory();
  /** Streams with DATA waiting for the connection window. */
  readonly #blocked = new Set<NativeCall>();
  /** Streams whose handlers wait for their queued output to fall. */
  readonly #writeWaiting = new Set<NativeCall>();
  readonly #resets: TokenBucket;
  readonly #controlFrames: TokenBucket;
  readonly #onCall: (call: NativeCall) => void;

  // Input.
  #prefaceMatched = 0;
  #settingsReceived = false;
  /** A frame split across reads: its bytes so far. Frames never keep views into it. */
  #partial: Uint8Array | null = null;
  #partialLength = 0;
  #headerBlock: HeaderBlock | null = null;
  #lastStreamId = 0;

  // Peer settings and windows.
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #peerInitialWindow = DEFAULT_WINDOW;
  #connSendWindow = DEFAULT_WINDOW;
  #connRecvWindow: number;
  #connUnreleased = 0;

  // Output.
  #flushScheduled = false;
  #writing = false;
  /** Writes completed, and when the tick last saw that count change (or saw no write). */
  #writesDone = 0;
  #writesSeen = 0;
  #writeProgressAt = 0;
  #inFlightBytes = 0;
  #readPaused = false;

  // Lifecycle.
  readonly #createdAt: number;
  #lastReadAt: number;
  #readSinceTick = false;
  #idleSince: number;
  #pingSentAt = 0;
  #goawaySent = false;
  #peerGoaway = false;
  #goawayLastId = 0;
  #graceDeadline = Infinity;
  #closing = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #maxAge: number;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  constructor(socket: ByteSocket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    const limits = this.#limits = options.limits;
    this.peer = socket.peer;
    this.peerCertificate = socket.peerCertificate;
    this.maxReceiveMessageBytes = limits.maxReceiveMessageBytes;
    this.maxSendMessageBytes = limits.maxSendMessageBytes;
    this.#decoder = new HpackDecoder({
      maxTableSize: 4096,
      maxHeaderListSize: limits.maxHeaderListBytes,
    });
    this.#resets = new TokenBucket(limits.resetRate, limits.resetBurst);
    this.#controlFrames = new TokenBucket(limits.controlFrameRate, limits.controlFrameBurst);
    this.#connRecvWindow = limits.connectionWindowBytes;
    this.#createdAt = this.#lastReadAt = this.#idleSince = performance.now();
    // ±10% jitter, as grpc-go does, so connections made together do not all age out at once.
    this.#maxAge = limits.maxConnectionAge > 0
      ? limits.maxConnectionAge * (0.9 + Math.random() * 0.2)
      : 0;
    this.#closedPromise = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#onCall = options.onCall;
  }

  /** Resolves once the socket is closed. */
  get closed(): Promise<void> {
    return this.#closedPromise;
  }

  /** Open streams. */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /** Sends our SETTINGS and serves until the socket closes; resolves then. Never rejects. */
  serve(): Promise<void> {
    this.#sendSettings();
    this.#socket.start((chunk) => this.#onInput(chunk), () => this.#onEnd());
    return this.#closedPromise;
  }

  #onInput(chunk: Uint8Array): void {
    if (this.#closing) return;
    // The tick turns this into #lastReadAt: no clock read per chunk.
    this.#readSinceTick = true;
    this.#receive(chunk);
    // A client that does not read its responses stops being read.
    if (!this.#closing && this.#outputBytes() > this.#limits.maxOutputBytes) {
      this.#readPaused = true;
      this.#socket.pause();
    }
  }

  #onEnd(): void {
    // The peer is gone or half-closed: send what is queued, within a bound, then close.
    for (const call of this.#streams.values()) call.cancel();
    this.#streams.clear();
    this.#closeAfterFlush(100);
  }

  /**
   * Graceful GOAWAY: no new streams; the connection closes once its open
   * streams end.
   */
  drain(): Promise<void> {
    if (!this.#closed) {
      if (!this.#goawaySent) this.#sendGoaway(ErrorCode.NO_ERROR, "");
      if (this.#streams.size === 0) this.#closeAfterFlush(1000);
    }
    return this.#closedPromise;
  }

  /** Cancels every stream, sends GOAWAY, and closes within 100 ms. */
  close(): void {
    if (this.#closed) return;
    if (!this.#goawaySent) this.#sendGoaway(ErrorCode.NO_ERROR, "server closing");
    for (const call of this.#streams.values()) call.cancel();
    this.#streams.clear();
    this.#closeAfterFlush(100);
  }

  /** Timers, driven by the server's tick: preface, keepalive, idle, age, stuck writes. */
  tick(now: number): void {
    if (this.#closed) return;
    const limits = this.#limits;
    if (!this.#settingsReceived) {
      if (now - this.#createdAt > limits.prefaceTimeout) {
        this.#log("no HTTP/2 preface in time");
        this.#destroy();
      }
      return;
    }
    if (this.#readSinceTick) {
      this.#readSinceTick = false;
      this.#lastReadAt = now;
      this.#pingSentAt = 0;
    }
    if (!this.#writing || this.#writesDone !== this.#writesSeen) {
      this.#writesSeen = this.#writesDone;
      this.#writeProgressAt = now;
    } else if (now - this.#writeProgressAt > limits.keepaliveTimeout) {
      this.#log("client stopped reading");
      this.#destroy();
      return;
    }
    if (this.#pingSentAt > 0 && now - this.#pingSentAt > limits.keepaliveTimeout) {
      this.#log("keepalive ping not answered");
      this.#destroy();
      return;
    }
    if (this.#pingSentAt === 0 && now - this.#lastReadAt > limits.keepaliveTime) {
      this.#pingSentAt = now;
      this.#out.frameHeader(8, FrameType.PING, 0, 0);
      this.#out.u32(0);
      this.#out.u32(0);
      this.#schedule();
    }
    if (
      limits.maxConnectionIdle > 0 && this.#streams.size === 0 && !this.#goawaySent &&
      now - this.#idleSince > limits.maxConnectionIdle
    ) {
      this.drain();
      return;
    }
    if (this.#maxAge > 0 && now - this.#createdAt > this.#maxAge) {
      if (!this.#goawaySent) {
        this.#graceDeadline = now + limits.maxConnectionAgeGrace;
        this.drain();
      } else if (now > this.#graceDeadline) this.close();
    }
  }

  // ------------------------------------------------------------------ input

  #receive(chunk: Uint8Array): void {
    let p = 0;
    try {
      if (this.#prefaceMatched < PREFACE.length) {
        p = this.#matchPreface(chunk);
        if (this.#prefaceMatched < PREFACE.length) return;
      }
      // A frame split across reads is completed first, copying only its own bytes.
      if (this.#partialLength > 0) {
        p = this.#completePartial(chunk, p);
        if (this.#partialLength > 0 || this.#closing) return;
      }
      while (chunk.length - p >= FRAME_HEADER_BYTES && !this.#closing) {
        const length = this.#frameLength(chunk, p);
        const start = p + FRAME_HEADER_BYTES;
        if (chunk.length - start < length) break;
        const streamId = readU32(chunk, p + 5) & 0x7fffffff;
        this.#frame(chunk[p + 3], chunk[p + 4], streamId, chunk, start, start + length);
        p = start + length;
      }
    } catch (error) {
      if (error instanceof ConnectionError) this.#connectionError(error.code, error.message);
      else {
        this.#options.log.error("http2 connection failed", { peer: this.peer, error });
        this.#connectionError(ErrorCode.INTERNAL_ERROR, "internal error");
      }
      return;
    }
    // The chunk may be reused by the socket: keep a copy of the partial frame.
    if (p < chunk.length && !this.#closing) this.#keepPartial(chunk, p, chunk.length);
  }

  /** The payload length in the frame header at `p`; throws if over our SETTINGS_MAX_FRAME_SIZE. */
  #frameLength(bytes: Uint8Array, p: number): number {
    const length = (bytes[p] << 16) | (bytes[p + 1] << 8) | bytes[p + 2];
    const max = this.#limits.maxFrameBytes;
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
        Math.max(this.#partialLength + n, FRAME_HEADER_BYTES + this.#limits.maxFrameBytes),
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
    try {
      switch (type) {
        case FrameType.DATA:
          return this.#onData(flags, streamId, b, s, e);
        case FrameType.HEADERS:
          return this.#onHeaders(flags, streamId, b, s, e);
        case FrameType.CONTINUATION:
          return this.#onContinuation(flags, streamId, b, s, e);
        case FrameType.PRIORITY:
          return this.#onPriority(streamId, b, s, e);
        case FrameType.RST_STREAM:
          return this.#onReset(streamId, b, s, e);
        case FrameType.SETTINGS:
          return this.#onSettings(flags, streamId, b, s, e);
        case FrameType.PUSH_PROMISE:
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "clients cannot push");
        case FrameType.PING:
          return this.#onPing(flags, streamId, b, s, e);
        case FrameType.GOAWAY:
          return this.#onGoaway(streamId, e - s);
        case FrameType.WINDOW_UPDATE:
          return this.#onWindowUpdate(streamId, b, s, e);
        default:
          // Unknown frame types are ignored (RFC 9113 §4.1).
          return;
      }
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      this.#resetStream(error.streamId, error.code);
    }
  }

  #onData(flags: number, streamId: number, b: Uint8Array, s: number, e: number): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    const length = e - s;
    this.#connRecvWindow -= length;
    if (this.#connRecvWindow < 0) {
      throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded");
    }
    let end = e, start = s;
    if (flags & Flag.PADDED) {
      if (length < 1 || b[s] >= length) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "padding exceeds DATA payload");
      }
      start = s + 1;
      end = e - b[s];
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (end === start && !endStream) this.#takeControlToken();
    const call = this.#streams.get(streamId);
    if (call === undefined) {
      this.#releaseConnection(length);
      if (this.#isIdle(streamId)) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      }
      if (this.#history.fate(streamId) === StreamFate.Reset) return;
      throw new ConnectionError(ErrorCode.STREAM_CLOSED, `DATA on closed stream ${streamId}`);
    }
    if (call.remoteClosed) {
      this.#releaseConnection(length);
      throw new StreamError(streamId, ErrorCode.STREAM_CLOSED, "DATA after END_STREAM");
    }
    call.recvWindow -= length;
    if (call.recvWindow < 0) {
      this.#releaseConnection(length);
      throw new StreamError(streamId, ErrorCode.FLOW_CONTROL_ERROR, "stream window exceeded");
    }
    call.unreleased += length;
    if (end > start) call.receive(b, start, end);
    if (this.#streams.get(streamId) !== call) return;
    if (endStream) {
      call.remoteClosed = true;
      call.receiveEnd();
    }
    this.release(call);
    if (call.remoteClosed && call.localClosed) this.#closeStream(call);
  }

  #onHeaders(flags: number, streamId: number, b: Uint8Array, s: number, e: number): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
    let start = s, end = e, badPriority = false;
    if (flags & Flag.PADDED) {
      if (e - s < 1) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short");
      end = e - b[s];
      start = s + 1;
    }
    if (flags & Flag.PRIORITY) {
      if (end - start < 5) {
        throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short");
      }
      badPriority = (readU32(b, start) & 0x7fffffff) === streamId;
      start += 5;
    }
    if (end < start) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "padding exceeds HEADERS");
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (flags & Flag.END_HEADERS) {
      this.#onHeaderBlock(streamId, endStream, badPriority, b, start, end);
      return;
    }
    if (end === start) this.#takeControlToken();
    this.#headerBlock = {
      streamId,
      endStream,
      badPriority,
      chunks: [b.slice(start, end)],
      size: end - start,
    };
  }

  #onContinuation(flags: number, streamId: number, b: Uint8Array, s: number, e: number): void {
    const block = this.#headerBlock;
    if (block === null || block.streamId !== streamId) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION");
    }
    if (e === s) this.#takeControlToken();
    block.size += e - s;
    // A compressed block this much bigger than the list limit can only be a flood.
    const cap = Math.max(4 * this.#limits.maxHeaderListBytes, 64 * 1024);
    if (block.size > cap || block.chunks.length >= MAX_CONTINUATIONS) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large");
    }
    block.chunks.push(b.slice(s, e));
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.#headerBlock = null;
    const whole = new Uint8Array(block.size);
    let p = 0;
    for (const chunk of block.chunks) {
      whole.set(chunk, p);
      p += chunk.length;
    }
    this.#onHeaderBlock(streamId, block.endStream, block.badPriority, whole, 0, whole.length);
  }

  #onHeaderBlock(
    streamId: number,
    endStream: boolean,
    badPriority: boolean,
    b: Uint8Array,
    s: number,
    e: number,
  ): void {
    // Decode first, whatever happens to the stream: the HPACK table must stay in sync.
    let decoded;
    try {
      decoded = this.#decoder.decode(b, s, e);
    } catch (error) {
      if (!(error instanceof HpackError)) throw error;
      throw new ConnectionError(ErrorCode.COMPRESSION_ERROR, `bad header block: ${error.message}`);
    }
    if (streamId % 2 === 0) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `client opened even stream ${streamId}`);
    }
    const existing = this.#streams.get(streamId);
    if (existing !== undefined) {
      this.#onTrailers(existing, endStream, decoded.fields);
      return;
    }
    if (streamId <= this.#lastStreamId) {
      const fate = this.#history.fate(streamId);
      if (fate === StreamFate.Reset) return;
      if (fate === StreamFate.Closed) {
        throw new ConnectionError(ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${streamId}`);
      }
      // Never opened: stream ids must increase (RFC 9113 §5.1.1).
      throw new ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `stream ${streamId} opened after stream ${this.#lastStreamId}`,
      );
    }
    this.#lastStreamId = streamId;
    this.#history.opened(streamId);
    // After GOAWAY, streams above its last-stream-id are ignored, their DATA
    // too (RFC 9113 §6.8); the client retries them elsewhere.
    if (this.#goawaySent) {
      this.#history.reset(streamId);
      return;
    }
    if (badPriority) throw new StreamError(streamId, ErrorCode.PROTOCOL_ERROR, "self-dependency");
    if (this.#streams.size >= this.#limits.maxConcurrentStreams) {
      throw new StreamError(streamId, ErrorCode.REFUSED_STREAM, "too many concurrent streams");
    }
    if (decoded.oversized) {
      this.#respondEarly(
        streamId,
        endStream,
        "200",
        Status.RESOURCE_EXHAUSTED,
        [
          `request headers (${decoded.size} bytes) exceed the limit of`,
          `${this.#limits.maxHeaderListBytes} bytes`,
        ].join(" "),
      );
      return;
    }
    const request = validateRequestHeaders(decoded.fields);
    if (typeof request === "string") {
      throw new StreamError(streamId, ErrorCode.PROTOCOL_ERROR, request);
    }
    if (request.method !== "POST") {
      this.#respondEarly(
        streamId,
        endStream,
        "405",
        Status.UNIMPLEMENTED,
        [
          `HTTP method ${request.method} is not allowed; gRPC uses POST`,
        ].join(""),
      );
      return;
    }
    const contentType = request.contentType;
    if (
      contentType === undefined || !contentType.startsWith("application/grpc") ||
      (contentType.length > 16 && contentType[16] !== "+" && contentType[16] !== ";")
    ) {
      this.#respondEarly(
        streamId,
        endStream,
        "415",
        Status.INTERNAL,
        `invalid gRPC request content-type "${(contentType ?? "").slice(0, ECHO_MAX)}"`,
      );
      return;
    }
    const route = this.#options.routes.get(request.path);
    if (route === undefined) {
      this.#respondEarly(
        streamId,
        endStream,
        "200",
        Status.UNIMPLEMENTED,
        `The server does not implement the method ${request.path.slice(0, ECHO_MAX)}`,
      );
      return;
    }
    const requestEncoding = parseEncoding(request.encoding);
    if (requestEncoding === null) {
      this.#respondEarly(
        streamId,
        endStream,
        "200",
        Status.UNIMPLEMENTED,
        `Received message compressed with unsupported encoding "${
          request.encoding!.slice(0, ECHO_MAX)
        }"`,
        [["grpc-accept-encoding", ACCEPTED_ENCODINGS]],
      );
      return;
    }
    let deadline = Infinity;
    if (request.timeout !== undefined) {
      const ms = parseTimeout(request.timeout);
      if (ms === null) {
        this.#respondEarly(
          streamId,
          endStream,
          "200",
          Status.INTERNAL,
          `Invalid grpc-timeout value "${request.timeout.slice(0, ECHO_MAX)}"`,
        );
        return;
      }
      deadline = Date.now() + ms;
    }
    const gzip = this.#limits.compression === "gzip" &&
      (request.acceptEncoding?.includes("gzip") ?? false);
    const call = new NativeCall(this, streamId, route, decoded.fields, {
      sendWindow: this.#peerInitialWindow,
      recvWindow: this.#limits.initialWindowBytes,
      deadline,
      requestEncoding,
      responseEncoding: gzip ? "gzip" : "identity",
      onDispatch: this.#onCall,
    });
    this.#streams.set(streamId, call);
    this.#idleSince = Infinity;
    // In the map before it starts: a handler may answer synchronously.
    call.start();
    if (endStream && this.#streams.get(streamId) === call) {
      call.remoteClosed = true;
      call.receiveEnd();
    }
  }

  #onTrailers(call: NativeCall, endStream: boolean, fields: readonly HeaderField[]): void {
    if (call.remoteClosed) {
      throw new StreamError(call.id, ErrorCode.STREAM_CLOSED, "HEADERS after END_STREAM");
    }
    if (!endStream) {
      throw new StreamError(call.id, ErrorCode.PROTOCOL_ERROR, "trailers without END_STREAM");
    }
    const problem = validateTrailers(fields);
    if (problem !== null) throw new StreamError(call.id, ErrorCode.PROTOCOL_ERROR, problem);
    call.remoteClosed = true;
    call.receiveEnd();
    if (call.localClosed) this.#closeStream(call);
  }

  #onPriority(streamId: number, b: Uint8Array, s: number, e: number): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0");
    if (e - s !== 5) {
      throw new StreamError(streamId, ErrorCode.FRAME_SIZE_ERROR, "PRIORITY must be 5 bytes");
    }
    this.#takeControlToken();
    if ((readU32(b, s) & 0x7fffffff) === streamId) {
      throw new StreamError(streamId, ErrorCode.PROTOCOL_ERROR, "stream depends on itself");
    }
    // Priorities are advisory and deprecated (RFC 9113 §5.3.2): ignored.
  }

  #onReset(streamId: number, b: Uint8Array, s: number, e: number): void {
    if (e - s !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM size");
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on 0");
    if (this.#isIdle(streamId)) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
    }
    const call = this.#streams.get(streamId);
    if (call === undefined) return;
    this.#takeResetToken();
    this.#options.log.debug("http2 stream reset by client", {
      peer: this.peer,
      stream: streamId,
      code: errorName(readU32(b, s)),
    });
    this.#closeStream(call);
    call.cancel();
  }

  #onSettings(flags: number, streamId: number, b: Uint8Array, s: number, e: number): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (e !== s) {
        throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with payload");
      }
      return;
    }
    if ((e - s) % 6 !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS size");
    this.#takeControlToken();
    for (let p = s; p < e; p += 6) {
      const id = (b[p] << 8) | b[p + 1];
      const value = readU32(b, p + 2);
      switch (id) {
        case Setting.HEADER_TABLE_SIZE:
          this.#encoder.setMaxTableSize(value);
          break;
        case Setting.ENABLE_PUSH:
          if (value > 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "ENABLE_PUSH > 1");
          break;
        case Setting.INITIAL_WINDOW_SIZE:
          this.#setPeerInitialWindow(value);
          break;
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) {
            throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `MAX_FRAME_SIZE ${value}`);
          }
          this.#peerMaxFrameSize = value;
          break;
          // MAX_CONCURRENT_STREAMS limits pushes, which we never send; unknown ids are ignored.
      }
    }
    this.#out.frameHeader(0, FrameType.SETTINGS, Flag.ACK, 0);
    this.#schedule();
  }

  #setPeerInitialWindow(value: number): void {
    if (value > MAX_WINDOW) {
      throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE too large");
    }
    const delta = value - this.#peerInitialWindow;
    this.#peerInitialWindow = value;
    if (delta === 0) return;
    for (const call of this.#streams.values()) {
      call.sendWindow += delta;
      if (call.sendWindow > MAX_WINDOW) {
        throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow");
      }
    }
    if (delta > 0) { for (const call of this.#streams.values()) this.#pump(call); }
  }

  #onPing(flags: number, streamId: number, b: Uint8Array, s: number, e: number): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
    if (e - s !== 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "PING must be 8 bytes");
    if (flags & Flag.ACK) return;
    this.#takeControlToken();
    this.#out.frame(FrameType.PING, Flag.ACK, 0, b.subarray(s, e));
    this.#schedule();
  }

  #onGoaway(streamId: number, length: number): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (length < 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "GOAWAY too short");
    // The client opens no more streams; finish the open ones, then close.
    this.#peerGoaway = true;
    if (this.#streams.size === 0) this.#closeAfterFlush(1000);
  }

  #onWindowUpdate(streamId: number, b: Uint8Array, s: number, e: number): void {
    if (e - s !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE size");
    const increment = readU32(b, s) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
      }
      this.#connSendWindow += increment;
      if (this.#connSendWindow > MAX_WINDOW) {
        throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow");
      }
      for (const call of [...this.#blocked]) {
        this.#blocked.delete(call);
        this.#pump(call);
      }
      return;
    }
    if (this.#isIdle(streamId)) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle ${streamId}`);
    }
    const call = this.#streams.get(streamId);
    if (call === undefined) return;
    if (increment === 0) throw new StreamError(streamId, ErrorCode.PROTOCOL_ERROR, "increment 0");
    call.sendWindow += increment;
    if (call.sendWindow > MAX_WINDOW) {
      throw new StreamError(streamId, ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow");
    }
    this.#pump(call);
  }

  #isIdle(streamId: number): boolean {
    return streamId > this.#lastStreamId || streamId % 2 === 0;
  }

  #takeControlToken(): void {
    if (!this.#controlFrames.tryTake()) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many control frames");
    }
  }

  #takeResetToken(): void {
    if (!this.#resets.tryTake()) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many stream resets");
    }
  }

  // ------------------------------------------------------------- flow control

  /**
   * CallOwner: gives back as window every received byte that is not part of
   * a message still queued for the handler. A handler that stops reading
   * thus stops its client, and one connection's buffered requests stay
   * within the connection window.
   */
  release(call: NativeCall): void {
    const amount = call.unreleased - call.heldBytes;
    if (amount <= 0) return;
    call.unreleased -= amount;
    this.#releaseConnection(amount);
    if (call.remoteClosed || this.#streams.get(call.id) !== call) return;
    call.windowCredit += amount;
    // Top the stream window up once half of it is used: fewer WINDOW_UPDATE frames.
    if (call.windowCredit >= this.#limits.initialWindowBytes / 2) {
      call.recvWindow += call.windowCredit;
      this.#windowUpdate(call.id, call.windowCredit);
      call.windowCredit = 0;
    }
  }

  #releaseConnection(bytes: number): void {
    this.#connUnreleased += bytes;
    if (this.#connUnreleased === 0) return;
    const target = this.#limits.connectionWindowBytes;
    if (this.#connUnreleased >= target / 2 || this.#connRecvWindow < target / 2) {
      this.#connRecvWindow += this.#connUnreleased;
      this.#windowUpdate(0, this.#connUnreleased);
      this.#connUnreleased = 0;
    }
  }

  #windowUpdate(streamId: number, increment: number): void {
    this.#out.frameHeader(4, FrameType.WINDOW_UPDATE, 0, streamId);
    this.#out.u32(increment);
    this.#schedule();
  }

  // ------------------------------------------------------------------ output

  /** CallOwner: response HEADERS, or Trailers-Only when `end`. */
  sendHeaders(call: NativeCall, fields: readonly HeaderField[], end: boolean): void {
    if (call.localClosed || this.#streams.get(call.id) !== call) return;
    call.headersSent = true;
    this.#writeHeaders(call.id, fields, end);
    if (end) {
      call.localClosed = true;
      this.#afterLocalClose(call);
    }
  }

  /** CallOwner: one message, sent as far as the windows allow and queued beyond. */
  sendMessage(call: NativeCall, body: Uint8Array, flag: number): void {
    if (call.localClosed || this.#streams.get(call.id) !== call) return;
    const length = body.length;
    const size = PREFIX_BYTES + length;
    // The common case: nothing queued and room for all of it, straight into
    // the output, split into frames there (no framed copy of the message).
    if (call.pending.length === 0 && size <= call.sendWindow && size <= this.#connSendWindow) {
      const out = this.#out;
      const max = this.#peerMaxFrameSize;
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
      this.#schedule();
      return;
    }
    const framed = new Uint8Array(size);
    framed[0] = flag;
    framed[1] = length >>> 24;
    framed[2] = (length >>> 16) & 0xff;
    framed[3] = (length >>> 8) & 0xff;
    framed[4] = length & 0xff;
    framed.set(body, PREFIX_BYTES);
    call.pending.push(framed);
    call.pendingBytes += size;
    this.#pump(call);
  }

  /** CallOwner: trailers after everything queued. */
  sendTrailers(call: NativeCall, fields: readonly HeaderField[]): void {
    if (call.localClosed || this.#streams.get(call.id) !== call) return;
    call.trailers = fields;
    this.#pump(call);
  }

  /** CallOwner. */
  whenWritable(call: NativeCall): Promise<void> | void {
    if (
      call.pendingBytes <= STREAM_HIGH_WATER && this.#outputBytes() <= this.#limits.maxOutputBytes
    ) {
      return;
    }
    if (call.ended) return;
    this.#writeWaiting.add(call);
    return new Promise<void>((resolve) => (call.drainWaiters ??= []).push(resolve));
  }

  #pump(call: NativeCall): void {
    const out = this.#out;
    while (call.pending.length > 0) {
      const window = Math.min(call.sendWindow, this.#connSendWindow);
      if (window <= 0) {
        if (this.#connSendWindow <= 0) this.#blocked.add(call);
        break;
      }
      const chunk = call.pending[0];
      const offset = call.pendingOffset;
      const n = Math.min(chunk.length - offset, window, this.#peerMaxFrameSize);
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
    if (
      call.drainWaiters !== null && call.pendingBytes <= STREAM_HIGH_WATER / 2 &&
      this.#outputBytes() <= this.#limits.maxOutputBytes
    ) this.#wakeWriter(call);
    if (call.pending.length === 0 && call.trailers !== null) {
      const trailers = call.trailers;
      call.trailers = null;
      this.#writeHeaders(call.id, trailers, true);
      call.localClosed = true;
      this.#afterLocalClose(call);
    }
    this.#schedule();
  }

  #writeHeaders(streamId: number, fields: readonly HeaderField[], end: boolean): void {
    const block = this.#encoder.encode(fields);
    const max = this.#peerMaxFrameSize;
    const endFlag = end ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      this.#out.frameHeader(block.length, FrameType.HEADERS, Flag.END_HEADERS | endFlag, streamId);
      this.#out.bytes(block);
    } else {
      for (let p = 0; p < block.length; p += max) {
        const last = p + max >= block.length;
        const type = p === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
        const flags = (p === 0 ? endFlag : 0) | (last ? Flag.END_HEADERS : 0);
        this.#out.frame(type, flags, streamId, block.subarray(p, Math.min(p + max, block.length)));
      }
    }
    this.#schedule();
  }

  /** Answers a request the transport refuses before any call exists. */
  #respondEarly(
    streamId: number,
    endStream: boolean,
    httpStatus: string,
    code: Status,
    message: string,
    extra: HeaderField[] = [],
  ): void {
    this.#writeHeaders(streamId, [
      [":status", httpStatus],
      ["content-type", "application/grpc"],
      ...extra,
      ["grpc-status", String(code)],
      ["grpc-message", encodeStatusMessage(message)],
    ], true);
    if (!endStream) this.#resetStream(streamId, ErrorCode.NO_ERROR);
  }

  /** We sent END_STREAM: the stream closes, now or when the client finishes. */
  #afterLocalClose(call: NativeCall): void {
    if (call.remoteClosed) {
      this.#closeStream(call);
      return;
    }
    // The response is complete; ask the client to stop sending (RFC 9113 §8.1).
    this.#closeStream(call);
    this.#out.frameHeader(4, FrameType.RST_STREAM, 0, call.id);
    this.#out.u32(ErrorCode.NO_ERROR);
    this.#history.reset(call.id);
    this.#releaseConnection(call.unreleased);
    call.unreleased = 0;
    this.#schedule();
  }

  #resetStream(streamId: number, code: number): void {
    if (code !== ErrorCode.NO_ERROR) {
      this.#options.log.debug("http2 stream reset", {
        peer: this.peer,
        stream: streamId,
        code: errorName(code),
      });
      this.#takeResetToken();
    }
    this.#out.frameHeader(4, FrameType.RST_STREAM, 0, streamId);
    this.#out.u32(code);
    this.#history.reset(streamId);
    this.#schedule();
    const call = this.#streams.get(streamId);
    if (call === undefined) return;
    this.#closeStream(call);
    this.#releaseConnection(call.unreleased);
    call.unreleased = 0;
    call.cancel();
  }

  #closeStream(call: NativeCall): void {
    if (this.#streams.get(call.id) !== call) return;
    this.#streams.delete(call.id);
    this.#blocked.delete(call);
    // Requests still queued for the handler will never be read: give their window back.
    this.#releaseConnection(call.unreleased);
    call.unreleased = 0;
    call.heldBytes = 0;
    call.pending = [];
    call.pendingBytes = 0;
    this.#wakeWriter(call);
    if (this.#streams.size > 0) return;
    this.#idleSince = performance.now();
    if (this.#goawaySent || this.#peerGoaway) this.#closeAfterFlush(1000);
  }

  #sendGoaway(code: number, message: string): void {
    if (!this.#goawaySent) {
      this.#goawaySent = true;
      this.#goawayLastId = this.#lastStreamId;
    }
    const debug = new TextEncoder().encode(message);
    this.#out.frameHeader(8 + debug.length, FrameType.GOAWAY, 0, 0);
    this.#out.u32(this.#goawayLastId);
    this.#out.u32(code);
    this.#out.bytes(debug);
    this.#schedule();
  }

  #connectionError(code: number, message: string): void {
    this.#log(`connection error ${errorName(code)}: ${message}`);
    this.#sendGoaway(code, message);
    for (const call of this.#streams.values()) call.cancel();
    this.#streams.clear();
    this.#closeAfterFlush(1000);
  }

  #sendSettings(): void {
    const limits = this.#limits;
    const settings: [number, number][] = [
      [Setting.MAX_CONCURRENT_STREAMS, limits.maxConcurrentStreams],
      [Setting.INITIAL_WINDOW_SIZE, limits.initialWindowBytes],
      [Setting.MAX_HEADER_LIST_SIZE, limits.maxHeaderListBytes],
    ];
    if (limits.maxFrameBytes !== DEFAULT_MAX_FRAME_SIZE) {
      settings.push([Setting.MAX_FRAME_SIZE, limits.maxFrameBytes]);
    }
    this.#out.frameHeader(settings.length * 6, FrameType.SETTINGS, 0, 0);
    for (const [id, value] of settings) {
      this.#out.u8(id >> 8);
      this.#out.u8(id & 0xff);
      this.#out.u32(value);
    }
    const increment = limits.connectionWindowBytes - DEFAULT_WINDOW;
    if (increment > 0) this.#windowUpdate(0, increment);
    this.#schedule();
  }

  #outputBytes(): number {
    return this.#out.length + this.#inFlightBytes;
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#writing || this.#closed) return;
    this.#flushScheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = async (): Promise<void> => {
    this.#flushScheduled = false;
    if (this.#writing || this.#closed) return;
    this.#writing = true;
    try {
      while (this.#out.length > 0 && !this.#closed) {
        const bytes = this.#out.take();
        this.#inFlightBytes = bytes.length;
        await this.#socket.write(bytes);
        this.#inFlightBytes = 0;
        this.#writesDone++;
        if (this.#closed) break;
        this.#out.release(bytes);
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
    const limit = this.#limits.maxOutputBytes;
    if (this.#readPaused && !this.#closing && this.#outputBytes() <= limit / 2) {
      this.#readPaused = false;
      this.#socket.resume();
    }
    if (this.#writeWaiting.size === 0 || this.#outputBytes() > limit) return;
    for (const call of this.#writeWaiting) {
      if (call.pendingBytes <= STREAM_HIGH_WATER / 2) this.#wakeWriter(call);
    }
  }

  #wakeWriter(call: NativeCall): void {
    if (!this.#writeWaiting.delete(call)) return;
    const waiters = call.drainWaiters;
    call.drainWaiters = null;
    if (waiters) { for (const waiter of waiters) waiter(); }
  }

  /** Stops reading; closes once the output is written, or after `boundMs` regardless. */
  #closeAfterFlush(boundMs: number): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.pause();
    // Bounded: a peer that never reads cannot hold the socket open.
    this.#closeTimer = setTimeout(() => this.#destroy(), boundMs);
    if (!this.#writing && this.#out.length === 0) this.#destroy();
    else this.#schedule();
  }

  #destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    clearTimeout(this.#closeTimer);
    for (const call of this.#streams.values()) call.cancel();
    this.#streams.clear();
    for (const call of this.#writeWaiting) this.#wakeWriter(call);
    this.#socket.close();
    // A closed connection may stay reachable (a handler still holding its
    // call, or the socket leak in socket.ts); its megabytes need not.
    this.#out.dispose();
    this.#partial = null;
    this.#partialLength = 0;
    this.#resolveClosed();
    this.#options.onClose(this);
  }

  #log(message: string): void {
    this.#options.log.debug(`http2: ${message}`, { peer: this.peer });
  }
}
