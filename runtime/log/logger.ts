/**
 * Structured logging: one JSON object per line (default) or a pretty form
 * for terminals, written to stderr.
 * @module
 */
import type { LogFields, Logger, LogLevel } from "./types.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const encoder = new TextEncoder();

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Default `json`. */
  format?: "json" | "pretty";
  /** Where lines go. Default: synchronous write to stderr, so nothing is lost on exit. */
  write?: (line: string) => void;
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
  const format = options.format === "pretty" ? formatPretty : formatJson;
  const write = options.write ?? writeStderr;
  return makeLogger(min, format, write, {});
}

function makeLogger(
  min: number,
  format: (level: LogLevel, msg: string, fields: LogFields) => string,
  write: (line: string) => void,
  bound: LogFields,
): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    write(format(level, msg, fields ? { ...bound, ...fields } : bound));
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => makeLogger(min, format, write, { ...bound, ...fields }),
    enabled: (level) => RANK[level] >= min,
  };
}

function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

function formatJson(level: LogLevel, msg: string, fields: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, replaceErrors);
}

function formatPretty(level: LogLevel, msg: string, fields: LogFields): string {
  const time = new Date().toISOString().slice(11, 23);
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
  let stack = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) {
      line += ` ${key}=${JSON.stringify(value.message)}`;
      stack = value.stack ? `\n${value.stack}` : "";
    } else {
      line += ` ${key}=${typeof value === "string" ? value : JSON.stringify(value, replaceErrors)}`;
    }
  }
  return line + stack;
}

// Errors have no enumerable fields; keep what an operator needs.
function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.stack) out.stack = value.stack;
    if (value.cause !== undefined) out.cause = value.cause;
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}
