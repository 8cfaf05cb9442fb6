/**
 * A request body as the handler reads it: an async iterable fed by the
 * connection, with a high-water mark so a handler that reads slowly pauses
 * the socket instead of letting the body pile up in memory.
 * @module
 */

/** Decoded bytes queued beyond this pause the socket. */
export const BODY_HIGH_WATER_BYTES = 64 * 1024;

/** What the body tells its connection. */
export interface RequestBodyHooks {
  /** The handler took data (or started waiting): the connection may resume reading. */
  readonly onPull: () => void;
  /** The first time the handler asks for data: the moment to send 100 Continue. */
  readonly onFirstRead: () => void;
}

/**
 * One request's body stream.
 *
 * @example
 * ```ts
 * const body = new RequestBody({ onPull() {}, onFirstRead() {} });
 * body.push(new Uint8Array([1]));
 * body.finish();
 * for await (const chunk of body) console.log(chunk);
 * ```
 */
export class RequestBody implements AsyncIterable<Uint8Array> {
  readonly #hooks: RequestBodyHooks;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #finished = false;
  #error: unknown = null;
  #waiter: PromiseWithResolvers<void> | null = null;
  #iterated = false;
  #read = false;
  /** The handler stopped reading (broke out of its loop): later data is dropped. */
  #abandoned = false;

  constructor(hooks: RequestBodyHooks) {
    this.#hooks = hooks;
  }

  /** Decoded bytes waiting for the handler. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** The handler is waiting for data right now (its stall is the client's). */
  get waiting(): boolean {
    return this.#waiter !== null;
  }

  /** Adds a copy of `data`. */
  push(data: Uint8Array): void {
    if (this.#finished || this.#error !== null || this.#abandoned || data.length === 0) return;
    this.#queue.push(data.slice());
    this.#queuedBytes += data.length;
    this.#wake();
  }

  /** The body ended. */
  finish(): void {
    this.#finished = true;
    this.#wake();
  }

  /** The body failed: iteration throws `error` once the queue is read. */
  fail(error: unknown): void {
    if (this.#finished || this.#error !== null) return;
    this.#error = error;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#wake();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterated) throw new TypeError("Cannot read a request body twice");
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: () => {
        this.#abandoned = true;
        this.#queue.length = 0;
        this.#queuedBytes = 0;
        this.#hooks.onPull();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  async #next(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#read) {
      this.#read = true;
      this.#hooks.onFirstRead();
    }
    while (true) {
      if (this.#error !== null) throw this.#error;
      const chunk = this.#queue.shift();
      if (chunk !== undefined) {
        this.#queuedBytes -= chunk.length;
        this.#hooks.onPull();
        return { done: false, value: chunk };
      }
      if (this.#finished || this.#abandoned) return { done: true, value: undefined };
      // Bounded by the connection: the body idle timeout fails the body, and a dead
      // connection fails it too.
      const waiter = this.#waiter = Promise.withResolvers<void>();
      // May push data, and so resolve the waiter, before returning.
      this.#hooks.onPull();
      await waiter.promise;
    }
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.resolve();
  }
}
