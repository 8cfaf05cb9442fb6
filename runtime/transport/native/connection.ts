/**
 * One HTTP/2 server connection (RFC 9113): what DATA means, the calls'
 * side of the streams (CallOwner, WebStreamOwner), and the connection's
 * lifecycle (drain, close, errors). gRPC lives in call.ts. The rest is in
 * parts, one concern each, held here and created once per connection:
 *
 * - frame_reader.ts: bytes in, frames and decoded header blocks out;
 * - output_writer.ts: frames out, all of one event-loop turn in one socket
 *   write (where the speed over node:http2 comes from), and backpressure;
 * - flow_control.ts: the windows both ways, and DATA waiting for them;
 * - stream_table.ts: the streams, open and past: opening one from its
 *   header block, trailers, closing, resets, GOAWAY;
 * - control_frames.ts: PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY and
 *   WINDOW_UPDATE from the client;
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
import { ControlFrames } from "./control_frames.ts";
import { FloodLimits } from "./flood_limits.ts";
import { FlowControl } from "./flow_control.ts";
import { ConnectionError, ErrorCode, errorName, Flag, FrameType, StreamError } from "./frame.ts";
import { FrameReader } from "./frame_reader.ts";
import { GrpcAdmission } from "./grpc_admission.ts";
import type { HeaderField } from "./hpack/mod.ts";
import { Keepalive, TICK_FAILURES, TickAction } from "./keepalive.ts";
import type { NativeLimits } from "./limits.ts";
import { OpenStreams } from "./open_streams.ts";
import { OutputWriter } from "./output_writer.ts";
import type { ByteSocket } from "./socket.ts";
import { sendSettings } from "./settings.ts";
import { StreamTable } from "./stream_table.ts";
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
  /** Open streams, by id: the stream table keeps them; read here on the hot path. */
  readonly #streams = new OpenStreams<H2Stream>();
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  // The parts.
  readonly #writer: OutputWriter;
  readonly #reader: FrameReader;
  readonly #flow: FlowControl;
  readonly #keepalive: Keepalive;
  readonly #flood: FloodLimits;
  readonly #table: StreamTable;
  readonly #control: ControlFrames;

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
    const streams = this.#streams;
    const writer = this.#writer = new OutputWriter(socket, limits, () => this.#destroy());
    const flood = this.#flood = new FloodLimits(limits);
    // `table` is set below, before any frame is read: the closures run later.
    const flow = this.#flow = new FlowControl(
      limits,
      writer,
      streams,
      (c) => table.afterLocalClose(c),
      options.memory,
    );
    const keepalive = this.#keepalive = new Keepalive(limits, writer);
    const admission = new GrpcAdmission(this, options, writer);
    const parts = { writer, flow, flood, keepalive, admission };
    const table = this.#table = new StreamTable(streams, limits, options.log, this.peer, parts);
    this.#control = new ControlFrames(streams, table, parts, options.log, this.peer);
    this.#reader = new FrameReader(
      limits,
      flood,
      (type, flags, streamId, b, s, e) => this.#frame(type, flags, streamId, b, s, e),
      (streamId, end, badPriority, block) => table.onHeaderBlock(streamId, end, badPriority, block),
    );
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
      if (!this.#table.goawaySent) this.#table.sendGoaway(ErrorCode.NO_ERROR, "");
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
    if (!this.#table.goawaySent) this.#table.sendGoaway(ErrorCode.NO_ERROR, "server closing");
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
    const action = this.#keepalive.tick(now, preface, this.#streams.size, this.#table.goawaySent);
    if (action === TickAction.None) return;
    if (action === TickAction.Drain) this.drain();
    else if (action === TickAction.Close) this.close();
    else {
      this.#log(TICK_FAILURES[action]);
      this.#destroy();
    }
  }

  // ------------------------------------------------------------------ frames

  /** Every frame but HEADERS and CONTINUATION (see StreamTable.onHeaderBlock); false once closing. */
  #frame(type: number, flags: number, streamId: number, b: Uint8Array, s: number, e: number) {
    try {
      this.#dispatch(type, flags, streamId, b, s, e);
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      this.#table.reset(error.streamId, error.code);
    }
    return !this.#writer.closing;
  }

  #dispatch(type: number, flags: number, streamId: number, b: Uint8Array, s: number, e: number) {
    if (type === FrameType.DATA) this.#onData(flags, streamId, b, s, e);
    else this.#control.frame(type, flags, streamId, b, s, e);
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
      if (this.#table.isIdle(streamId)) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      }
      if (this.#table.wasReset(streamId)) return;
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
    if (call.remoteClosed && call.localClosed) this.#table.close(call);
  }

  // ------------------------------------------------------------ CallOwner

  /** CallOwner: response HEADERS, or Trailers-Only when `end`. */
  sendHeaders(call: H2Stream, fields: readonly HeaderField[], end: boolean): void {
    if (call.localClosed || this.#streams.get(call.id) !== call) return;
    call.headersSent = true;
    this.#writer.headers(call.id, fields, end);
    if (end) {
      call.localClosed = true;
      this.#table.afterLocalClose(call);
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
    if (this.#streams.get(stream.id) === stream) this.#table.reset(stream.id, code);
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
    this.#table.handlerDone(call);
  }

  /** CallOwner. */
  whenWritable(call: H2Stream): Promise<void> | void {
    return this.#writer.whenWritable(call);
  }

  // ------------------------------------------------------------ lifecycle

  #connectionError(code: number, message: string): void {
    this.#log(`connection error ${errorName(code)}: ${message}`);
    this.#table.sendGoaway(code, message);
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
