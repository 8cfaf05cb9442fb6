/**
 * One HTTP/2 server connection (RFC 9113): the stream table, what each
 * frame means, and the connection's lifecycle (drain, close, GOAWAY). gRPC
 * lives in call.ts. The rest is in parts, one concern each, held here and
 * created once per connection:
 *
 * - frame_reader.ts: bytes in, frames and decoded header blocks out;
 * - output_writer.ts: frames out, all of one event-loop turn in one socket
 *   write (where the speed over node:http2 comes from), and backpressure;
 * - flow_control.ts: the windows both ways, and DATA waiting for them;
 * - keepalive.ts: the timers (preface, keepalive, idle, age, stuck writes);
 * - flood_limits.ts: what a hostile client may cost before it is cut off;
 * - grpc_admission.ts: new requests, refused early or made NativeCalls (or,
 *   with the web protocols on, H2WebStreams: h2_web_stream.ts);
 * - settings.ts: SETTINGS, ours and the peer's.
 * @module
 */
import { Status } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { PeerCertificate } from "../../core/peer.ts";
import type { Route, TransportCall } from "../types.ts";
import type { CallOwner, NativeCall } from "./call.ts";
import type { H2Stream } from "./h2_stream.ts";
import type { WebStreamOwner } from "./h2_web_stream.ts";
import { FloodLimits } from "./flood_limits.ts";
import { FlowControl } from "./flow_control.ts";
import {
  ConnectionError,
  ErrorCode,
  errorName,
  Flag,
  FrameType,
  readU32,
  StreamError,
} from "./frame.ts";
import { FrameReader } from "./frame_reader.ts";
import { GrpcAdmission } from "./grpc_admission.ts";
import type { DecodeResult, HeaderField } from "./hpack/mod.ts";
import { Keepalive, TICK_FAILURES, TickAction } from "./keepalive.ts";
import type { NativeLimits } from "./limits.ts";
import { OutputWriter } from "./output_writer.ts";
import type { ByteSocket } from "./socket.ts";
import { applyPeerSettings, sendSettings } from "./settings.ts";
import { StreamFate, StreamHistory } from "./stream_history.ts";
import { validateTrailers } from "./request_headers.ts";
import type { InflateGate } from "./compression.ts";
import type { MemoryBudget } from "../../util/memory_budget.ts";
import type { Http1Handler } from "../http1/mod.ts";

/** What a connection needs from its server. */
export interface ConnectionOptions {
  readonly routes: ReadonlyMap<string, Route>;
  readonly onCall: (call: TransportCall) => void;
  readonly limits: NativeLimits;
  readonly log: Logger;
  /** The process's memory budget, shared by every connection. */
  readonly memory: MemoryBudget;
  /** Paces inflation of compressed requests; one per process. */
  readonly inflation: InflateGate;
  /** Stamp each read with the time (`lastReadAt`), for calls' `receivedAt`. */
  readonly timeReads: boolean;
  /** Called once, when the socket is closed. */
  readonly onClose: (connection: Http2Connection) => void;
  /** Serves the streams that are not gRPC (gRPC-Web, Connect) when `server.web.enabled`. */
  readonly webHandler?: Http1Handler | null;
}

/** A server-side HTTP/2 connection over one socket. */
export class Http2Connection implements CallOwner, WebStreamOwner {
  readonly peer: string;
  readonly peerCertificate: PeerCertificate | null;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  readonly memory: MemoryBudget;
  readonly inflation: InflateGate;
  /** `performance.now()` at the last socket read; 0 unless the server times reads. */
  lastReadAt = 0;

  readonly #socket: ByteSocket;
  readonly #options: ConnectionOptions;
  readonly #limits: NativeLimits;
  readonly #streams = new Map<number, H2Stream>();
  readonly #history = new StreamHistory();
  /** Calls whose stream closed while their handler still runs. */
  #detached = 0;
  #lastStreamId = 0;
  #goawaySent = false;
  #peerGoaway = false;
  #goawayLastId = 0;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  // The parts.
  readonly #writer: OutputWriter;
  readonly #reader: FrameReader;
  readonly #flow: FlowControl;
  readonly #keepalive: Keepalive;
  readonly #flood: FloodLimits;
  readonly #admission: GrpcAdmission;

  constructor(socket: ByteSocket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    const limits = this.#limits = options.limits;
    this.peer = socket.peer;
    this.peerCertificate = socket.peerCertificate;
    this.maxReceiveMessageBytes = limits.maxReceiveMessageBytes;
    this.maxSendMessageBytes = limits.maxSendMessageBytes;
    this.memory = options.memory;
    this.inflation = options.inflation;
    const writer = this.#writer = new OutputWriter(socket, limits, () => this.#destroy());
    const flood = this.#flood = new FloodLimits(limits);
    this.#reader = new FrameReader(
      limits,
      flood,
      (type, flags, streamId, b, s, e) => this.#frame(type, flags, streamId, b, s, e),
      (streamId, end, badPriority, block) => this.#onHeaderBlock(streamId, end, badPriority, block),
    );
    this.#flow = new FlowControl(
      limits,
      writer,
      this.#streams,
      (c) => this.#afterLocalClose(c),
      options.memory,
    );
    this.#keepalive = new Keepalive(limits, writer);
    this.#admission = new GrpcAdmission(this, options, writer);
    this.#closedPromise = new Promise((resolve) => this.#resolveClosed = resolve);
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
    sendSettings(this.#writer, this.#limits);
    this.#socket.start((chunk) => this.#onInput(chunk), () => this.#onEnd());
    return this.#closedPromise;
  }

  #onInput(chunk: Uint8Array): void {
    if (this.#writer.closing) return;
    this.#keepalive.readSinceTick = true;
    if (this.#options.timeReads) this.lastReadAt = performance.now();
    try {
      this.#reader.read(chunk);
    } catch (error) {
      if (error instanceof ConnectionError) this.#connectionError(error.code, error.message);
      else {
        this.#options.log.error("http2 connection failed", { peer: this.peer, error });
        this.#connectionError(ErrorCode.INTERNAL_ERROR, "internal error");
      }
      return;
    }
    if (!this.#writer.closing) this.#writer.pauseReadingIfFull();
  }

  #onEnd(): void {
    // The peer is gone or half-closed: send what is queued, within a bound, then close.
    this.#flow.dispose();
    for (const call of this.#streams.values()) call.cancel();
    this.#streams.clear();
    this.#writer.closeAfterFlush(100);
  }

  /**
   * Graceful GOAWAY: no new streams; the connection closes once its open
   * streams end.
   */
  drain(): Promise<void> {
    if (!this.#writer.closed) {
      if (!this.#goawaySent) this.#sendGoaway(ErrorCode.NO_ERROR, "");
      if (this.#streams.size === 0) this.#writer.closeAfterFlush(1000);
    }
    return this.#closedPromise;
  }

  /**
   * Sends GOAWAY, ends every open call UNAVAILABLE (what a grpc-go client
   * reports for a connection the server closed, now said in the call's own
   * trailers, so metrics and logs count the same code), and closes within
   * 100 ms. Response data still queued is dropped.
   */
  close(): void {
    if (this.#writer.closed) return;
    if (!this.#goawaySent) this.#sendGoaway(ErrorCode.NO_ERROR, "server closing");
    this.#flow.dispose();
    for (const call of [...this.#streams.values()]) {
      call.abort(Status.UNAVAILABLE, "server closing");
    }
    this.#streams.clear();
    this.#writer.closeAfterFlush(100);
  }

  /** Timers, driven by the server's tick: see keepalive.ts. */
  tick(now: number): void {
    if (this.#writer.closed) return;
    const preface = this.#reader.settingsReceived;
    const action = this.#keepalive.tick(now, preface, this.#streams.size, this.#goawaySent);
    if (action === TickAction.None) return;
    if (action === TickAction.Drain) this.drain();
    else if (action === TickAction.Close) this.close();
    else {
      this.#log(TICK_FAILURES[action]);
      this.#destroy();
    }
  }

  // ------------------------------------------------------------------ frames

  /** Every frame but HEADERS and CONTINUATION (see #onHeaderBlock); false once closing. */
  #frame(type: number, flags: number, streamId: number, b: Uint8Array, s: number, e: number) {
    try {
      this.#dispatch(type, flags, streamId, b, s, e);
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      this.#resetStream(error.streamId, error.code);
    }
    return !this.#writer.closing;
  }

  #dispatch(type: number, flags: number, streamId: number, b: Uint8Array, s: number, e: number) {
    switch (type) {
      case FrameType.DATA:
        return this.#onData(flags, streamId, b, s, e);
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
  }

  #onData(flags: number, streamId: number, b: Uint8Array, s: number, e: number): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    const length = e - s;
    const flow = this.#flow;
    flow.receive(length);
    let end = e, start = s;
    if (flags & Flag.PADDED) {
      if (length < 1 || b[s] >= length) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "padding exceeds DATA payload");
      }
      start = s + 1;
      end = e - b[s];
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (end === start && !endStream) this.#flood.controlFrame();
    const call = this.#streams.get(streamId);
    if (call === undefined) {
      flow.releaseConnection(length);
      if (this.#isIdle(streamId)) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      }
      if (this.#history.fate(streamId) === StreamFate.Reset) return;
      throw new ConnectionError(ErrorCode.STREAM_CLOSED, `DATA on closed stream ${streamId}`);
    }
    if (call.remoteClosed) {
      flow.releaseConnection(length);
      throw new StreamError(streamId, ErrorCode.STREAM_CLOSED, "DATA after END_STREAM");
    }
    flow.receiveOnStream(call, length);
    if (end > start) call.receive(b, start, end);
    if (this.#streams.get(streamId) !== call) return;
    if (endStream) {
      call.remoteClosed = true;
      call.receiveEnd();
    }
    flow.release(call);
    if (call.remoteClosed && call.localClosed) this.#closeStream(call);
  }

  /** HEADERS and its CONTINUATIONs, whole and decoded: a new stream, or trailers. */
  #onHeaderBlock(streamId: number, endStream: boolean, badPriority: boolean, block: DecodeResult) {
    try {
      const existing = this.#streams.get(streamId);
      if (existing !== undefined) this.#onTrailers(existing, endStream, block.fields);
      else this.#openStream(streamId, endStream, badPriority, block);
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      this.#resetStream(error.streamId, error.code);
    }
    return !this.#writer.closing;
  }

  #openStream(streamId: number, endStream: boolean, badPriority: boolean, decoded: DecodeResult) {
    if (streamId % 2 === 0) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `client opened even stream ${streamId}`);
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
    // A handler still running after its stream was reset counts until it returns, as in
    // grpc-go since 1.58.3: resetting streams must not let a client run unbounded handlers.
    if (this.#streams.size + this.#detached >= this.#limits.maxConcurrentStreams) {
      throw new StreamError(streamId, ErrorCode.REFUSED_STREAM, "too many concurrent streams");
    }
    const call = this.#admission.admit(streamId, decoded, this.#flow.peerInitialWindow);
    if (call === null) {
      // Answered already: a client still sending is asked to stop.
      if (!endStream) this.#resetStream(streamId, ErrorCode.NO_ERROR);
      return;
    }
    this.#streams.set(streamId, call);
    this.#keepalive.idleSince = Infinity;
    // In the map before it starts: a handler may answer synchronously.
    call.start();
    if (endStream && this.#streams.get(streamId) === call) {
      call.remoteClosed = true;
      call.receiveEnd();
    }
  }

  #onTrailers(call: H2Stream, endStream: boolean, fields: readonly HeaderField[]): void {
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
    this.#flood.controlFrame();
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
    this.#flood.streamReset();
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
    this.#flood.settings((e - s) / 6);
    applyPeerSettings(b, s, e, this.#writer, this.#flow);
    this.#writer.settingsAck();
  }

  #onPing(flags: number, streamId: number, b: Uint8Array, s: number, e: number): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
    if (e - s !== 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "PING must be 8 bytes");
    if (flags & Flag.ACK) return;
    this.#flood.controlFrame();
    this.#writer.pingAck(b, s, e);
  }

  #onGoaway(streamId: number, length: number): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (length < 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "GOAWAY too short");
    // The client opens no more streams; finish the open ones, then close.
    this.#peerGoaway = true;
    if (this.#streams.size === 0) this.#writer.closeAfterFlush(1000);
  }

  #onWindowUpdate(streamId: number, b: Uint8Array, s: number, e: number): void {
    if (e - s !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE size");
    const increment = readU32(b, s) & 0x7fffffff;
    if (streamId === 0) {
      this.#flow.connectionWindowUpdate(increment);
      return;
    }
    if (this.#isIdle(streamId)) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle ${streamId}`);
    }
    const call = this.#streams.get(streamId);
    if (call !== undefined) this.#flow.streamWindowUpdate(call, increment);
  }

  #isIdle(streamId: number): boolean {
    return streamId > this.#lastStreamId || streamId % 2 === 0;
  }

  // ------------------------------------------------------------ CallOwner

  /** CallOwner: response HEADERS, or Trailers-Only when `end`. */
  sendHeaders(call: H2Stream, fields: readonly HeaderField[], end: boolean): void {
    if (call.localClosed || this.#streams.get(call.id) !== call) return;
    call.headersSent = true;
    this.#writer.headers(call.id, fields, end);
    if (end) {
      call.localClosed = true;
      this.#afterLocalClose(call);
    }
  }

  /** CallOwner: one message, sent as far as the windows allow and queued beyond. */
  sendMessage(call: NativeCall, body: Uint8Array, flag: number): boolean {
    if (call.localClosed || this.#streams.get(call.id) !== call) return true;
    return this.#flow.send(call, body, flag);
  }

  /** WebStreamOwner: body bytes as they are (the web protocols frame their own). */
  sendData(stream: H2Stream, bytes: Uint8Array): boolean {
    if (stream.localClosed || this.#streams.get(stream.id) !== stream) return true;
    return this.#flow.sendRaw(stream, bytes);
  }

  /** WebStreamOwner: END_STREAM after everything queued, as an empty DATA frame. */
  sendEnd(stream: H2Stream): void {
    if (stream.localClosed || this.#streams.get(stream.id) !== stream) return;
    stream.trailers = [];
    this.#flow.pump(stream);
  }

  /** WebStreamOwner: logged as the HTTP/1.1 side logs its handler's failures. */
  handlerFailed(error: unknown): void {
    this.#options.log.debug("web request failed", { peer: this.peer, error: String(error) });
  }

  /** WebStreamOwner. */
  resetStream(stream: H2Stream, code: number): void {
    if (this.#streams.get(stream.id) === stream) this.#resetStream(stream.id, code);
  }

  /** CallOwner: trailers after everything queued. */
  sendTrailers(call: H2Stream, fields: readonly HeaderField[]): void {
    if (call.localClosed || this.#streams.get(call.id) !== call) return;
    call.trailers = fields;
    this.#flow.pump(call);
  }

  /** CallOwner: request bytes were consumed; see FlowControl.release. */
  release(call: NativeCall): void {
    this.#flow.release(call);
  }

  /** WebStreamOwner: a web handler took request bytes; see FlowControl.release. */
  releaseBody(stream: H2Stream): void {
    this.#flow.release(stream);
  }

  /** CallOwner. */
  reserve(call: NativeCall, bytes: number): boolean {
    return this.#flow.reserve(call, bytes);
  }

  /** CallOwner. */
  unreserve(call: NativeCall): void {
    this.#flow.unreserve(call);
  }

  /** CallOwner. */
  handlerDone(call: H2Stream): void {
    if (call.detached) {
      call.detached = false;
      this.#detached--;
    }
  }

  /** CallOwner. */
  whenWritable(call: H2Stream): Promise<void> | void {
    return this.#writer.whenWritable(call);
  }

  // ------------------------------------------------------------ lifecycle

  /** We sent END_STREAM: the stream closes, now or when the client finishes. */
  #afterLocalClose(call: H2Stream): void {
    if (call.remoteClosed) {
      this.#closeStream(call);
      return;
    }
    // The response is complete; ask the client to stop sending (RFC 9113 §8.1).
    this.#closeStream(call);
    this.#writer.rstStream(call.id, ErrorCode.NO_ERROR);
    this.#history.reset(call.id);
    this.#flow.releaseConnection(call.unreleased);
    call.unreleased = 0;
  }

  #resetStream(streamId: number, code: number): void {
    if (code !== ErrorCode.NO_ERROR) {
      this.#options.log.debug("http2 stream reset", {
        peer: this.peer,
        stream: streamId,
        code: errorName(code),
      });
      this.#flood.streamReset();
    }
    this.#writer.rstStream(streamId, code);
    this.#history.reset(streamId);
    const call = this.#streams.get(streamId);
    if (call === undefined) return;
    this.#closeStream(call);
    this.#flow.releaseConnection(call.unreleased);
    call.unreleased = 0;
    call.cancel();
  }

  #closeStream(call: H2Stream): void {
    if (this.#streams.get(call.id) !== call) return;
    this.#streams.delete(call.id);
    if (call.running && !call.detached) {
      call.detached = true;
      this.#detached++;
    }
    this.#flow.closed(call);
    this.#writer.wake(call);
    if (this.#streams.size > 0) return;
    this.#keepalive.idleSince = performance.now();
    if (this.#goawaySent || this.#peerGoaway) this.#writer.closeAfterFlush(1000);
  }

  #sendGoaway(code: number, message: string): void {
    if (!this.#goawaySent) {
      this.#goawaySent = true;
      this.#goawayLastId = this.#lastStreamId;
    }
    this.#writer.goaway(this.#goawayLastId, code, message);
  }

  #connectionError(code: number, message: string): void {
    this.#log(`connection error ${errorName(code)}: ${message}`);
    this.#sendGoaway(code, message);
    this.#flow.dispose();
    for (const call of this.#streams.values()) call.cancel();
    this.#streams.clear();
    this.#writer.closeAfterFlush(1000);
  }

  #destroy(): void {
    const writer = this.#writer;
    if (writer.closed) return;
    writer.stop();
    this.#flow.dispose();
    for (const call of this.#streams.values()) call.cancel();
    this.#streams.clear();
    writer.dispose();
    this.#reader.dispose();
    this.#resolveClosed();
    this.#options.onClose(this);
  }

  #log(message: string): void {
    this.#options.log.debug(`http2: ${message}`, { peer: this.peer });
  }
}
