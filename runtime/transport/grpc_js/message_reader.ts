/**
 * The request messages of a client-streaming or bidi call, pulled from
 * grpc-js's readable stream one at a time.
 *
 * Pull-based: `stream.read()` only asks grpc-js for more when its small
 * buffer runs low, so reading pauses while the handler is busy. The
 * `readable`, `end` and `abort` listeners are added once per call, not per
 * message (a bidi call used to add and remove three per message).
 * @module
 */
import type { ServerReadableStream } from "@grpc/grpc-js";
import type { Buffer } from "node:buffer";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/** An async iterator over a call's request messages; ends with the stream, throws on abort. */
export class MessageReader implements AsyncIterableIterator<Uint8Array> {
  readonly #stream: ServerReadableStream<Buffer, Buffer>;
  readonly #signal: AbortSignal;
  #listening = false;
  #wake: (() => void) | null = null;
  readonly #onEvent = () => {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  };

  constructor(stream: ServerReadableStream<Buffer, Buffer>, signal: AbortSignal) {
    this.#stream = stream;
    this.#signal = signal;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array, undefined>> {
    while (true) {
      const message: Buffer | null = this.#stream.read();
      if (message !== null) return { value: message, done: false };
      if (this.#signal.aborted) {
        this.#unlisten();
        this.#signal.throwIfAborted();
      }
      if (this.#stream.readableEnded) {
        this.#unlisten();
        return DONE;
      }
      this.#listen();
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  return(): Promise<IteratorResult<Uint8Array, undefined>> {
    this.#unlisten();
    return Promise.resolve(DONE);
  }

  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    this.#stream.on("readable", this.#onEvent);
    this.#stream.on("end", this.#onEvent);
    this.#signal.addEventListener("abort", this.#onEvent);
  }

  #unlisten(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#stream.off("readable", this.#onEvent);
    this.#stream.off("end", this.#onEvent);
    this.#signal.removeEventListener("abort", this.#onEvent);
  }
}
