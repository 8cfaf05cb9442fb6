/**
 * Structured logging: one JSON object per line (default) or a pretty form
 * for terminals, written to stderr.
 * @module
 */
import { flushLogs, JsonLineBytes, textBytes, writeStderr } from "./stderr_writer.ts";
import type { LogFields, Logger, LogLevel } from "../core/logger.ts";
import { fieldJson } from "./field_json.ts";

export { flushLogs };

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Default `json`. */
  format?: "json" | "pretty";
  /**
   * Where lines go. Default: stderr, batched: the lines of one event-loop
   * turn go out in one write (an access log otherwise costs a syscall per
   * call). warn and error lines, {@link flushLogs} and process exit flush
   * at once, so nothing is lost on a normal exit.
   */
  write?: (line: string, level: LogLevel) => void;
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "debug" });
 * log.child({ method: "/helloworld.Greeter/SayHello" }).info("call", { code: "OK" });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const write = options.write ?? writeStderr;
  const format = options.format === "pretty" ? prettyFormat : jsonFormat;
  return makeLogger(min, format, write, {});
}

/** Formats lines for one logger's bound fields (prepared once, not per line). */
type Format = (bound: LogFields) => (level: LogLevel, msg: string, fields?: LogFields) => string;

function makeLogger(
  min: number,
  format: Format,
  write: (line: string, level: LogLevel) => void,
  bound: LogFields,
): Logger {
  const line = format(bound);
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    let text: string;
    try {
      text = line(level, msg, fields);
    } catch {
      // Field values are written safely; this catches what is left (a proxy as `fields`).
      text = line(level, msg, { logError: "the line's fields could not be read" });
    }
    write(text, level);
  };
  const logger: Logger & JsonLineLogger = {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => makeLogger(min, format, write, { ...bound, ...fields }),
    enabled: (level) => RANK[level] >= min,
  };
  if (format === jsonFormat && write === writeStderr) {
    const heads = { debug: new Map(), info: new Map(), warn: new Map(), error: new Map() };
    const boundJson = jsonMembers(bound);
    logger[JSON_LINE] = (level, msg) => {
      if (RANK[level] < min) return null;
      let head: Uint8Array | undefined = heads[level].get(msg);
      if (head === undefined) {
        head = textBytes(`,"level":"${level}","msg":${JSON.stringify(msg)}${boundJson}`);
        if (heads[level].size < 64) heads[level].set(msg, head);
      }
      JsonLineBytes.begin(timeBytes(), head);
      return JsonLineBytes;
    };
  }
  return logger;
}

/**
 * A JSON logger writing to stderr offers hot paths a line they fill member
 * by member, straight into the output buffer (the access log writes one per
 * call). Absent on other formats and writers.
 */
export const JSON_LINE: unique symbol = Symbol("svc.log.jsonLine");

/** A logger that may offer {@link JSON_LINE}. */
export interface JsonLineLogger {
  /**
   * Starts a line with time, level, `msg` and the bound fields, and returns
   * the writer for the rest (end it with `end(level)`); null when `level` is off.
   */
  [JSON_LINE]?: (level: LogLevel, msg: string) => typeof JsonLineBytes | null;
}

let _timeStamp = "";
let _timeBytes: Uint8Array = new Uint8Array(0);

/** `{"time":"…"` for now, re-encoded only when {@link timestamp} changes (once per ms). */
function timeBytes(): Uint8Array {
  const stamp = timestamp();
  if (stamp !== _timeStamp) {
    _timeStamp = stamp;
    _timeBytes = textBytes(`{"time":${stamp}`);
  }
  return _timeBytes;
}

// --- formats -------------------------------------------------------------------

/**
 * One JSON object per line: time, level, msg, the bound fields, the line's
 * fields. Bound fields are serialised once per logger; a field given again
 * on a line appears twice, and JSON readers keep the later value, as an
 * object spread would.
 */
const jsonFormat: Format = (bound) => {
  const boundJson = jsonMembers(bound);
  return (level, msg, fields) => jsonLine(level, msg, boundJson, fields ? jsonMembers(fields) : "");
};

function jsonLine(level: LogLevel, msg: string, boundJson: string, members: string): string {
  return `{"time":${timestamp()},"level":"${level}","msg":${jsonText(msg)}${boundJson}${members}}`;
}

/** `text` as a JSON string literal; no JSON.stringify call when nothing needs escaping. */
function jsonText(text: string): string {
  return isPlainJsonText(text) ? `"${text}"` : JSON.stringify(text);
}

/**
 * `fields` as JSON object members with a leading comma, or "" when there
 * are none; the same text `JSON.stringify(fields, replaceErrors)` gives.
 * Strings, numbers and booleans are written directly: JSON.stringify with
 * a replacer function was most of an access-log line's cost.
 */
function jsonMembers(fields: LogFields): string {
  let out = "";
  for (const key in fields) {
    const value = fields[key];
    let json: string | undefined;
    switch (typeof value) {
      case "string":
        json = jsonText(value);
        break;
      case "number":
        json = Number.isFinite(value) ? String(value) : "null";
        break;
      case "boolean":
        json = value ? "true" : "false";
        break;
      case "undefined":
        continue;
      default:
        // Errors, bigints, objects, toJSON(); functions and symbols are left out, as in JSON.
        json = fieldJson(value);
        if (json === undefined) continue;
    }
    out += `,${jsonKey(key)}:${json}`;
  }
  return out;
}

const _keys = new Map<string, string>();

function jsonKey(key: string): string {
  let json = _keys.get(key);
  if (json === undefined) {
    json = JSON.stringify(key);
    if (_keys.size < 1024) _keys.set(key, json);
  }
  return json;
}

/** True when `text` needs no escaping inside JSON quotes. */
function isPlainJsonText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

let _stampMs = NaN;
let _stamp = "";

/** The current time as a JSON string, rebuilt at most once per millisecond. */
function timestamp(): string {
  const now = Date.now();
  if (now !== _stampMs) {
    _stampMs = now;
    _stamp = `"${new Date(now).toISOString()}"`;
  }
  return _stamp;
}

const prettyFormat: Format = (bound) => (level, msg, fields) =>
  formatPretty(level, msg, fields ? { ...bound, ...fields } : bound);

function formatPretty(level: LogLevel, msg: string, fields: LogFields): string {
  const time = new Date().toISOString().slice(11, 23);
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
  let stack = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) {
      line += ` ${key}=${fieldJson(value.message)}`;
      stack = typeof value.stack === "string" ? `\n${value.stack}` : "";
    } else {
      line += ` ${key}=${typeof value === "string" ? value : fieldJson(value)}`;
    }
  }
  return line + stack;
}
