/**
 * The readers every message is decoded with. protobufjs picks its Buffer
 * reader for a Node Buffer (what sockets hand the transports), and that
 * reader clamps a string that runs past the end of the message instead of
 * failing, while neither reader checks that a string is UTF-8. protobuf-go,
 * which grpc-go servers and clients use, rejects both ("cannot parse invalid
 * wire-format data", "string field contains invalid UTF-8"). These readers
 * are protobufjs's own with `string()` replaced: bounds checked, and the
 * text checked as it is read (ASCII, the common case, in one plain loop;
 * anything else through a fatal TextDecoder).
 *
 * Stricter than protobuf-go in one way: proto2 strings are checked too.
 * Looser in one: a known field sent with the wrong wire type is read as
 * its declared type (and usually fails), where protobuf-go skips it as an
 * unknown field.
 *
 * The readers are prototypes in protobufjs's own style rather than classes
 * extending it: a class constructor calling its ES5 parent cost ~60 ns per
 * message.
 * @module
 */
import { Buffer } from "node:buffer";
import protobuf from "protobufjs";

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** Longest run passed to String.fromCharCode at once (its argument count is bounded). */
const CHUNK = 4096;

/** The text of `bytes[start, end)`; throws on invalid UTF-8. */
export function readUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  for (let i = start; i < end; i++) {
    if (bytes[i] > 0x7f) {
      try {
        return UTF8.decode(bytes.subarray(start, end));
      } catch {
        throw new Error("string field contains invalid UTF-8");
      }
    }
  }
  // ASCII: Buffer's native slice when there is one, else char codes.
  const latin1 = (bytes as unknown as { latin1Slice?: (s: number, e: number) => string })
    .latin1Slice;
  if (latin1 !== undefined) return latin1.call(bytes, start, end);
  let text = "";
  for (let i = start; i < end; i += CHUNK) {
    const run = bytes.subarray(i, Math.min(end, i + CHUNK));
    text += String.fromCharCode.apply(null, run as unknown as number[]);
  }
  return text;
}

interface ReaderState {
  buf: Uint8Array;
  pos: number;
  len: number;
  uint32(): number;
}

function strictString(this: ReaderState): string {
  const length = this.uint32();
  const start = this.pos;
  const end = start + length;
  if (end > this.len) {
    throw new RangeError(`index out of range: ${start} + ${length} > ${this.len}`);
  }
  this.pos = end;
  return readUtf8(this.buf, start, end);
}

type ReaderConstructor = new (buffer: Uint8Array) => protobuf.Reader;

function strict(base: typeof protobuf.Reader): ReaderConstructor {
  function StrictReader(this: protobuf.Reader, buffer: Uint8Array) {
    base.call(this as never, buffer as never);
  }
  StrictReader.prototype = Object.create(base.prototype);
  StrictReader.prototype.constructor = StrictReader;
  StrictReader.prototype.string = strictString;
  return StrictReader as unknown as ReaderConstructor;
}

const StrictUint8ArrayReader = strict(protobuf.Reader);
const StrictBufferReader = strict(protobuf.BufferReader as unknown as typeof protobuf.Reader);

/** The reader for `bytes`: protobufjs's Buffer or plain reader, with strict strings. */
export function strictReader(bytes: Uint8Array): protobuf.Reader {
  return Buffer.isBuffer(bytes) ? new StrictBufferReader(bytes) : new StrictUint8ArrayReader(bytes);
}
