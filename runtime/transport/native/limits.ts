/**
 * The numbers a native connection enforces, from `server` config.
 * @module
 */
import type { ResolvedServer } from "../../config/types.ts";

/** Limits and timings for one connection; durations in ms, 0 = never. */
export interface NativeLimits {
  readonly maxConcurrentStreams: number;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  readonly maxHeaderListBytes: number;
  readonly initialWindowBytes: number;
  readonly connectionWindowBytes: number;
  readonly maxFrameBytes: number;
  readonly resetRate: number;
  readonly resetBurst: number;
  readonly controlFrameRate: number;
  readonly controlFrameBurst: number;
  readonly prefaceTimeout: number;
  readonly maxOutputBytes: number;
  readonly keepaliveTime: number;
  readonly keepaliveTimeout: number;
  readonly maxConnectionIdle: number;
  readonly maxConnectionAge: number;
  readonly maxConnectionAgeGrace: number;
  readonly compression: "identity" | "gzip";
}

/** Flattens `server`, `server.http2` and `server.keepalive` into connection limits. */
export function nativeLimits(server: ResolvedServer): NativeLimits {
  const { http2, keepalive } = server;
  return {
    maxConcurrentStreams: server.maxConcurrentStreams,
    maxReceiveMessageBytes: server.maxReceiveMessageBytes,
    maxSendMessageBytes: server.maxSendMessageBytes,
    maxHeaderListBytes: http2.maxHeaderListBytes,
    initialWindowBytes: http2.initialWindowBytes,
    connectionWindowBytes: http2.connectionWindowBytes,
    maxFrameBytes: http2.maxFrameBytes,
    resetRate: http2.resetRate,
    resetBurst: http2.resetBurst,
    controlFrameRate: http2.controlFrameRate,
    controlFrameBurst: http2.controlFrameBurst,
    prefaceTimeout: http2.prefaceTimeout,
    maxOutputBytes: http2.maxOutputBytes,
    keepaliveTime: keepalive.time,
    keepaliveTimeout: keepalive.timeout,
    maxConnectionIdle: keepalive.maxConnectionIdle,
    maxConnectionAge: keepalive.maxConnectionAge,
    maxConnectionAgeGrace: keepalive.maxConnectionAgeGrace,
    compression: server.compression,
  };
}
