/**
 * The frames that carry no request data: PRIORITY, RST_STREAM, SETTINGS,
 * PING, GOAWAY and WINDOW_UPDATE (and PUSH_PROMISE, refused, and unknown
 * types, ignored). What makes each malformed (RFC 9113 §6), and its effect
 * on the parts of the connection. Rare next to DATA (the connection's own
 * hot path) and HEADERS (stream_table.ts), so one more call here costs nothing.
 * @module
 */
import type { ReadonlyOpenStreams } from "./open_streams.ts";
import type { Logger } from "../../core/logger.ts";
import type { FloodLimits } from "./flood_limits.ts";
import type { FlowControl } from "./flow_control.ts";
import {
  ConnectionError,
  ErrorCode,
  errorName,
  Flag,
  FrameType,
  readU32,
  StreamError,
} from "./frame.ts";
import type { H2Stream } from "./h2_stream.ts";
import type { OutputWriter } from "./output_writer.ts";
import { applyPeerSettings } from "./settings.ts";
import type { StreamTable } from "./stream_table.ts";

/** One connection's handling of control frames. */
export class ControlFrames {
  readonly #streams: ReadonlyOpenStreams<H2Stream>;
  readonly #table: StreamTable;
  readonly #writer: OutputWriter;
  readonly #flow: FlowControl;
  readonly #flood: FloodLimits;
  readonly #log: Logger;
  readonly #peer: string;

  /** `streams` is the connection's map of open streams, kept by `table`. */
  constructor(
    streams: ReadonlyOpenStreams<H2Stream>,
    table: StreamTable,
    parts: {
      readonly writer: OutputWriter;
      readonly flow: FlowControl;
      readonly flood: FloodLimits;
    },
    log: Logger,
    peer: string,
  ) {
    this.#streams = streams;
    this.#table = table;
    this.#writer = parts.writer;
    this.#flow = parts.flow;
    this.#flood = parts.flood;
    this.#log = log;
    this.#peer = peer;
  }

  /** Every frame but DATA, HEADERS and CONTINUATION; throws ConnectionError or StreamError. */
  frame(type: number, flags: number, streamId: number, b: Uint8Array, s: number, e: number): void {
    switch (type) {
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
    if (this.#table.isIdle(streamId)) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
    }
    const call = this.#streams.get(streamId);
    if (call === undefined) return;
    this.#flood.streamReset();
    this.#log.debug("http2 stream reset by client", {
      peer: this.#peer,
      stream: streamId,
      code: errorName(readU32(b, s)),
    });
    this.#table.close(call);
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
    this.#table.peerGoaway();
  }

  #onWindowUpdate(streamId: number, b: Uint8Array, s: number, e: number): void {
    if (e - s !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE size");
    const increment = readU32(b, s) & 0x7fffffff;
    if (streamId === 0) {
      this.#flow.connectionWindowUpdate(increment);
      return;
    }
    if (this.#table.isIdle(streamId)) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle ${streamId}`);
    }
    const call = this.#streams.get(streamId);
    if (call !== undefined) this.#flow.streamWindowUpdate(call, increment);
  }
}
