/**
 * Structured logging.
 * @module
 */
export { createLogger, flushLogs, type LoggerOptions } from "./logger.ts";
export type { LogFields, Logger, LogLevel } from "../core/logger.ts";
