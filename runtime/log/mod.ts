/**
 * Structured logging.
 * @module
 */
export { createLogger, type LoggerOptions } from "./logger.ts";
export type { LogFields, Logger, LogLevel } from "./types.ts";
