/**
 * One connection's stream table (RFC 9113 §5.1): which client streams are
 * open, which ids were used and how they ended, how a stream opens from a
 * decoded header block or ends with the client's trailers, how it closes or
 * is reset, and GOAWAY, after which no stream opens, sent or received.
 * Owned by the connection, which reads the same map of open streams on its
 * hot path (DATA, the CallOwner methods) and comes here once per stream.
 * @module
 */
import type { Logger } from "../../core/logger.ts";
import type { FloodLimits } from "./flood_limits.ts";
import type { FlowControl } from "./flow_control.ts";
import { ConnectionError, ErrorCode, errorName, StreamError } from "./frame.ts";
import type { GrpcAdmission } from "./grpc_admission.ts";
import type { H2Stream } from "./h2_stream.ts";
import type { DecodeResult, HeaderField } from "./hpack/mod.ts";
import type { Keepalive } from "./keepalive.ts";
import type { NativeLimits } from "./limits.ts";
import type { OpenStreams } from "./open_streams.ts";
import type { OutputWriter } from "./output_writer.ts";
import { validateTrailers } from "./request_headers.ts";
import { StreamFate, StreamHistory } from "./stream_history.ts";

/** The parts of its connection the stream table drives. */
export interface StreamTableParts {
  readonly writer: OutputWriter;
  readonly flow: FlowControl;
  readonly flood: FloodLimits;
  readonly keepalive: Keepalive;
  readonly admission: GrpcAdmission;
}

/** The streams of one connection, open and past. */
export class StreamTable {
  readonly #streams: OpenStreams<H2Stream>;
  readonly #history = new StreamHistory();
  readonly #limits: NativeLimits;
  readonly #log: Logger;
  readonly #peer: string;
  readonly #writer: OutputWriter;
  readonly #flow: FlowControl;
  readonly #flood: FloodLimits;
  readonly #keepalive: Keepalive;
  readonly #admission: GrpcAdmission;
  /** Calls whose stream closed while their handler still runs. */
  #detached = 0;
  #lastStreamId = 0;
  #goawaySent = false;
  #peerGoaway = false;
  #goawayLastId = 0;

  /** `streams` is the connection's map of open streams, kept here. */
  constructor(
    streams: OpenStreams<H2Stream>,
    limits: NativeLimits,
    log: Logger,
    peer: string,
    parts: StreamTableParts,
  ) {
    this.#streams = streams;
    this.#limits = limits;
    this.#log = log;
    this.#peer = peer;
    this.#writer = parts.writer;
    this.#flow = parts.flow;
    this.#flood = parts.flood;
    this.#keepalive = parts.keepalive;
    this.#admission = parts.admission;
  }

  /** We sent GOAWAY: no new streams. */
  get goawaySent(): boolean {
    return this.#goawaySent;
  }

  /** Not opened yet, or not the client's to open (RFC 9113 §5.1). */
  isIdle(streamId: number): boolean {
    return streamId > this.#lastStreamId || streamId % 2 === 0;
  }

  /** We reset `streamId` (or answered it early): the client's late frames are expected. */
  wasReset(streamId: number): boolean {
    return this.#history.fate(streamId) === StreamFate.Reset;
  }

  /** HEADERS and its CONTINUATIONs, whole and decoded: a new stream, or trailers. */
  onHeaderBlock(streamId: number, endStream: boolean, badPriority: boolean, block: DecodeResult) {
    try {
      const existing = this.#streams.get(streamId);
      if (existing !== undefined) this.#onTrailers(existing, endStream, block.fields);
      else this.#openStream(streamId, endStream, badPriority, block);
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      this.reset(error.streamId, error.code);
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
      if (!endStream) this.reset(streamId, ErrorCode.NO_ERROR);
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
    if (call.localClosed) this.close(call);
  }

  /** We sent END_STREAM: the stream closes, now or when the client finishes. */
  afterLocalClose(call: H2Stream): void {
    if (call.remoteClosed) {
      this.close(call);
      return;
    }
    // The response is complete; ask the client to stop sending (RFC 9113 §8.1).
    this.close(call);
    this.#writer.rstStream(call.id, ErrorCode.NO_ERROR);
    this.#history.reset(call.id);
    this.#flow.releaseConnection(call.unreleased);
    call.unreleased = 0;
  }

  /** Sends RST_STREAM for `streamId` and cancels its call, if open. */
  reset(streamId: number, code: number): void {
    if (code !== ErrorCode.NO_ERROR) {
      this.#log.debug("http2 stream reset", {
        peer: this.#peer,
        stream: streamId,
        code: errorName(code),
      });
      this.#flood.streamReset();
    }
    this.#writer.rstStream(streamId, code);
    this.#history.reset(streamId);
    const call = this.#streams.get(streamId);
    if (call === undefined) return;
    this.close(call);
    this.#flow.releaseConnection(call.unreleased);
    call.unreleased = 0;
    call.cancel();
  }

  /** Takes `call` out of the table; the connection closes after GOAWAY once none is left. */
  close(call: H2Stream): void {
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

  /** A handler returned: a detached one no longer counts against the stream limit. */
  handlerDone(call: H2Stream): void {
    if (call.detached) {
      call.detached = false;
      this.#detached--;
    }
  }

  /** Sends GOAWAY; the last stream id is fixed by the first. */
  sendGoaway(code: number, message: string): void {
    if (!this.#goawaySent) {
      this.#goawaySent = true;
      this.#goawayLastId = this.#lastStreamId;
    }
    this.#writer.goaway(this.#goawayLastId, code, message);
  }

  /** The client sent GOAWAY: it opens no more streams; finish the open ones, then close. */
  peerGoaway(): void {
    this.#peerGoaway = true;
    if (this.#streams.size === 0) this.#writer.closeAfterFlush(1000);
  }
}
