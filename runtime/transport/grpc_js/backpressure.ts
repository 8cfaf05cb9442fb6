/**
 * Write backpressure that Deno 2.8.3's node:http2 does not give: its
 * streams accept every write and call back at once, queueing the bytes
 * inside the HTTP/2 session, so a client that stops reading makes the
 * server buffer a whole stream (measured: 200,000 small messages grew RSS
 * by ~38 MB). The stream's `bufferSize` does count those queued bytes, so a
 * writer waits while it is above a high-water mark.
 * @module
 */

/** Bytes queued on one stream before its writer waits. */
export const HIGH_WATER_BYTES = 1 << 20;
/** The writer resumes once the queue drains below this. */
export const LOW_WATER_BYTES = HIGH_WATER_BYTES >> 2;
/** How often a waiting writer looks again; nothing else signals progress. */
const POLL_MS = 5;

/** What this needs of an http2 stream. */
export interface BufferedStream {
  readonly bufferSize: number;
  readonly destroyed?: boolean;
}

/**
 * The http2 stream under a grpc-js server call, if this grpc-js exposes it.
 * grpc-js has no public accessor: the call objects hold a
 * BaseServerInterceptingCall as `call`, which holds the stream. Any other
 * shape (a future grpc-js) yields null, and backpressure falls back to
 * grpc-js's own.
 */
export function http2StreamOf(grpcCall: unknown): BufferedStream | null {
  const inner = (grpcCall as { call?: { stream?: unknown } }).call;
  const stream = inner?.stream as BufferedStream | undefined;
  return stream && typeof stream.bufferSize === "number" ? stream : null;
}

/** True when the writer should wait before the next message. */
export function overHighWater(stream: BufferedStream): boolean {
  return stream.bufferSize > HIGH_WATER_BYTES;
}

/** Resolves once the queue is below the low-water mark, or the call ends. */
export function belowLowWater(stream: BufferedStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (signal.aborted || stream.destroyed || stream.bufferSize < LOW_WATER_BYTES) {
        clearInterval(timer);
        signal.removeEventListener("abort", check);
        resolve();
      }
    };
    const timer = setInterval(check, POLL_MS);
    signal.addEventListener("abort", check);
  });
}
