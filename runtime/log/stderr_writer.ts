/**
 * The default log destination: stderr, through one buffer written once per
 * event-loop turn (an access log otherwise costs a syscall per call). Lines
 * go into the buffer as encoded bytes, either whole ({@link writeStderr}) or
 * piece by piece ({@link JsonLineBytes}), so no growing string is kept.
 * @module
 */
import type { LogLevel } from "../core/logger.ts";

const encoder = new TextEncoder();
const BUFFER_BYTES = 64 * 1024;
const buffer = new Uint8Array(BUFFER_BYTES);
let used = 0;
let scheduled = false;
let exitHooked = false;

/** Writes the lines the buffer holds; for exit paths and tests. */
export function flushLogs(): void {
  lineStart = 0;
  if (used === 0) return;
  writeAllSync(buffer.subarray(0, used));
  used = 0;
}

function writeAllSync(bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/** Buffers one line (without its newline). */
export function writeStderr(line: string, level: LogLevel): void {
  // A UTF-16 unit takes at most 3 bytes in UTF-8.
  const worst = line.length * 3 + 1;
  if (used + worst > BUFFER_BYTES) flushLogs();
  if (worst > BUFFER_BYTES) writeAllSync(encoder.encode(line + "\n"));
  else {
    used += encoder.encodeInto(line, buffer.subarray(used)).written;
    buffer[used++] = 0x0a;
  }
  lineWritten(level);
}

/** warn and error go out at once; other lines with the rest of this turn's. */
function lineWritten(level: LogLevel): void {
  if (level === "warn" || level === "error") return flushLogs();
  if (!exitHooked) {
    exitHooked = true;
    // Deno.exit() and the end of the program dispatch "unload"; an uncaught
    // exception dispatches "error" before the process dies.
    globalThis.addEventListener("unload", flushLogs);
    globalThis.addEventListener("error", flushLogs);
  }
  if (!scheduled) {
    scheduled = true;
    setTimeout(flushScheduled, 0);
  }
}

function flushScheduled(): void {
  scheduled = false;
  flushLogs();
}

/** Text as UTF-8 bytes, for the constant pieces of a line (keys, fixed values). */
export function textBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Where the line being built starts; lines before it are complete. */
let lineStart = 0;

/** Makes room for `n` more bytes of the line being built. */
function ensure(n: number): void {
  if (used + n <= BUFFER_BYTES) return;
  // Let the finished lines go and move the partial one to the front.
  if (lineStart > 0) {
    writeAllSync(buffer.subarray(0, lineStart));
    buffer.copyWithin(0, lineStart, used);
    used -= lineStart;
    lineStart = 0;
  }
  if (used + n <= BUFFER_BYTES) return;
  // The line itself is long: its start goes out now. Nothing else writes in
  // between (this is synchronous), so it still reaches stderr in one piece.
  writeAllSync(buffer.subarray(0, used));
  used = 0;
}

/**
 * A JSON log line written straight into the stderr buffer, member by
 * member: no strings built, nothing left for the garbage collector. For
 * lines written at a rate (the access log); see `JSON_LINE` in logger.ts.
 * Keys are pre-encoded `,"key":` bytes.
 */
export const JsonLineBytes = {
  /** Starts a line: `time` (`{"time":"…"`), then `head` (`,"level":"info","msg":"call"`…). */
  begin(time: Uint8Array, head: Uint8Array): void {
    if (used + time.length + head.length > BUFFER_BYTES) flushLogs();
    lineStart = used;
    bytes(time);
    bytes(head);
  },
  /** Appends pre-encoded bytes (a member, or members, with their commas). */
  bytes,
  /** Appends `key` and `value` as a JSON string. */
  string(key: Uint8Array, value: string): void {
    bytes(key);
    // JSON escapes take at most 6 bytes per UTF-16 unit; UTF-8 at most 3.
    const worst = value.length * 6 + 2;
    if (worst > BUFFER_BYTES) {
      // The partial line, then the value, straight out: still one piece on stderr.
      flushLogs();
      writeAllSync(encoder.encode(JSON.stringify(value)));
      return;
    }
    ensure(worst);
    const start = used;
    buffer[used++] = 0x22;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        used = start;
        used += encoder.encodeInto(JSON.stringify(value), buffer.subarray(used)).written;
        return;
      }
      buffer[used++] = c;
    }
    buffer[used++] = 0x22;
  },
  /** Appends `key` and `value` as a JSON number (null when not finite). */
  number(key: Uint8Array, value: number): void {
    bytes(key);
    ensure(24);
    if (value >= 0 && value <= 0x7fffffff && (value | 0) === value) {
      if (value === 0) {
        buffer[used++] = 0x30;
        return;
      }
      let end = used + 1;
      for (let rest = value; rest >= 10; rest = (rest / 10) | 0) end++;
      used = end;
      for (let rest = value; rest > 0; rest = (rest / 10) | 0) buffer[--end] = 0x30 + rest % 10;
      return;
    }
    const text = Number.isFinite(value) ? String(value) : "null";
    for (let i = 0; i < text.length; i++) buffer[used++] = text.charCodeAt(i);
  },
  /** Ends the line (`}` and newline) and schedules or makes its write. */
  end(level: LogLevel): void {
    ensure(2);
    buffer[used++] = 0x7d;
    buffer[used++] = 0x0a;
    lineStart = used;
    lineWritten(level);
  },
};

function bytes(piece: Uint8Array): void {
  if (piece.length > BUFFER_BYTES) {
    flushLogs();
    return writeAllSync(piece);
  }
  ensure(piece.length);
  buffer.set(piece, used);
  used += piece.length;
}
