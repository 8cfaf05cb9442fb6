/**
 * Message compression (grpc-encoding): identity, gzip and deflate, as
 * grpc-js accepts. Synchronous: messages are bounded by the size limits.
 * @module
 */
import process from "node:process";

type Zlib = typeof import("node:zlib");
let _zlib: Zlib | null = null;

// node:zlib takes 10-20 ms of a cold start to load in Deno, and most
// services never see a compressed message: load it on the first one. The
// calls here are synchronous, hence getBuiltinModule() rather than import().
function zlib(): Zlib {
  return _zlib ??= process.getBuiltinModule("node:zlib") as Zlib;
}

/** The encodings the native transport reads. */
export type Encoding = "identity" | "gzip" | "deflate";

/** What `grpc-accept-encoding` advertises. */
export const ACCEPTED_ENCODINGS = "identity,deflate,gzip";

/** The encoding named by a `grpc-encoding` header, or null if unsupported. */
export function parseEncoding(value: string | undefined): Encoding | null {
  if (value === undefined || value === "identity") return "identity";
  if (value === "gzip" || value === "deflate") return value;
  return null;
}

/**
 * Decompresses one message. Throws RangeError when the result would exceed
 * `maxBytes` (checked while inflating, so a zip bomb costs no memory).
 */
export function decompress(encoding: Encoding, bytes: Uint8Array, maxBytes: number): Uint8Array {
  const options = { maxOutputLength: maxBytes };
  const out = encoding === "gzip"
    ? zlib().gunzipSync(bytes, options)
    : zlib().inflateSync(bytes, options);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Compresses one message. */
export function compress(encoding: Encoding, bytes: Uint8Array): Uint8Array {
  const out = encoding === "gzip" ? zlib().gzipSync(bytes) : zlib().deflateSync(bytes);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Part of the event loop's time that inflation may take, over any second. */
const INFLATE_SHARE = 0.5;
/** Inflation time that may be spent at once before the share applies (ms). */
const INFLATE_BURST_MS = 50;

/**
 * Keeps inflation to {@link INFLATE_SHARE} of the event loop (issue 19:
 * 4 KiB gzip requests that inflate to 4 MiB cost 5 ms each; a flood of them
 * took the whole loop and health checks failed). A token bucket of
 * milliseconds: each inflation is timed and paid for afterwards; while the
 * bucket is empty, inflations wait their turn, their compressed bytes still
 * held within flow control. Turns go round the connections (the `from`
 * key), first come first served within each, so one connection's flood
 * delays other clients' compressed calls by one inflation per turn, not by
 * its whole queue. One per process.
 */
export class InflateGate {
  #tokens = INFLATE_BURST_MS;
  #last = performance.now();
  /** Waiting inflations by connection; a Map keeps the order in which turns go round. */
  readonly #queues = new Map<object, (() => void)[]>();
  #waiting = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Inflations waiting for their turn. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Runs `fn` now if the loop can spare the time, else in `from`'s next turn. */
  run<T>(fn: () => T, from: object = this): T | Promise<T> {
    if (this.#waiting === 0 && this.#refill() > 0) return this.#timed(fn);
    return new Promise<T>((resolve, reject) => {
      const job = () => {
        try {
          resolve(this.#timed(fn));
        } catch (error) {
          reject(error);
        }
      };
      const queue = this.#queues.get(from);
      if (queue) queue.push(job);
      else this.#queues.set(from, [job]);
      this.#waiting++;
      this.#schedule();
    });
  }

  /** Runs the first job of the connection whose turn it is; it goes to the back of the round. */
  #runNext(): void {
    const [from, queue] = this.#queues.entries().next().value!;
    this.#queues.delete(from);
    const job = queue.shift()!;
    if (queue.length > 0) this.#queues.set(from, queue);
    this.#waiting--;
    job();
  }

  #timed<T>(fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.#tokens -= performance.now() - start;
    }
  }

  #refill(): number {
    const now = performance.now();
    this.#tokens = Math.min(INFLATE_BURST_MS, this.#tokens + (now - this.#last) * INFLATE_SHARE);
    this.#last = now;
    return this.#tokens;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = this.#tokens > 0 ? 0 : Math.ceil(-this.#tokens / INFLATE_SHARE) + 1;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      while (this.#waiting > 0 && this.#refill() > 0) this.#runNext();
      if (this.#waiting > 0) this.#schedule();
    }, wait);
  }
}
