/**
 * SETTINGS (RFC 9113 §6.5): ours, the first frame a connection sends, and
 * the peer's, each value handed to the part it concerns.
 * @module
 */
import type { FlowControl } from "./flow_control.ts";
import {
  ConnectionError,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  FrameType,
  readU32,
  Setting,
} from "./frame.ts";
import type { NativeLimits } from "./limits.ts";
import type { OutputWriter } from "./output_writer.ts";

/**
 * Our SETTINGS, then a WINDOW_UPDATE that opens the connection window to
 * its configured size (no setting can).
 */
export function sendSettings(writer: OutputWriter, limits: NativeLimits): void {
  const settings: [number, number][] = [
    [Setting.MAX_CONCURRENT_STREAMS, limits.maxConcurrentStreams],
    [Setting.INITIAL_WINDOW_SIZE, limits.initialWindowBytes],
    [Setting.MAX_HEADER_LIST_SIZE, limits.maxHeaderListBytes],
  ];
  if (limits.maxFrameBytes !== DEFAULT_MAX_FRAME_SIZE) {
    settings.push([Setting.MAX_FRAME_SIZE, limits.maxFrameBytes]);
  }
  const out = writer.out;
  out.frameHeader(settings.length * 6, FrameType.SETTINGS, 0, 0);
  for (const [id, value] of settings) {
    out.u8(id >> 8);
    out.u8(id & 0xff);
    out.u32(value);
  }
  const increment = limits.connectionWindowBytes - DEFAULT_WINDOW;
  if (increment > 0) writer.windowUpdate(0, increment);
  writer.schedule();
}

/** Applies the peer's SETTINGS in `b[s..e)`, a whole number of 6-byte entries. */
export function applyPeerSettings(
  b: Uint8Array,
  s: number,
  e: number,
  writer: OutputWriter,
  flow: FlowControl,
): void {
  for (let p = s; p < e; p += 6) {
    const id = (b[p] << 8) | b[p + 1];
    const value = readU32(b, p + 2);
    switch (id) {
      case Setting.HEADER_TABLE_SIZE:
        writer.setHeaderTableSize(value);
        break;
      case Setting.ENABLE_PUSH:
        if (value > 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "ENABLE_PUSH > 1");
        break;
      case Setting.INITIAL_WINDOW_SIZE:
        flow.setPeerInitialWindow(value);
        break;
      case Setting.MAX_FRAME_SIZE:
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) {
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `MAX_FRAME_SIZE ${value}`);
        }
        writer.peerMaxFrameSize = value;
        break;
        // MAX_CONCURRENT_STREAMS limits pushes, which we never send; unknown ids are ignored.
    }
  }
}
