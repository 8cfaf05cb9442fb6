/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/**
 * A structured logger. `child()` returns a logger that adds `fields` to
 * every line (a call's logger carries its method and peer).
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  /** True when lines at `level` are written; lets hot paths skip building fields. */
  enabled(level: LogLevel): boolean;
}
