/**
 * The HTTP/1.1 connection's output: everything sent in one event-loop turn
 * leaves in one socket write, as the HTTP/2 side batches its frames. A
 * gRPC-Web unary answer is a head, a message, a trailers frame and the last
 * chunk; written one by one they cost a write system call each (3.08 per
 * call in bench/profile.ts's syscall count), joined they cost one. Each
 * `send` still resolves only once its bytes are with the kernel, so a
 * handler awaiting its writes keeps the socket's backpressure.
 * @module
 */
import { setImmediate } from "node:timers";

/**
 * Joins the sends of one turn into one write.
 *
 * @example
 * ```ts
 * const queue = new OutputQueue((bytes) => socket.write(bytes));
 * queue.send(head);
 * await queue.send(body); // one write of head + body
 * ```
 */
export class OutputQueue {
  readonly #write: (bytes: Uint8Array) => Promise<void>;
  #parts: Uint8Array[] = [];
  #waiters: PromiseWithResolvers<void>[] = [];
  #scheduled = false;
  #writing = false;

  /** `write` sends bytes to the socket and rejects if it is gone. */
  constructor(write: (bytes: Uint8Array) => Promise<void>) {
    this.#write = write;
  }

  /** Queues `bytes` behind what is queued; resolves once they are written. */
  send(bytes: Uint8Array): Promise<void> {
    const waiter = Promise.withResolvers<void>();
    this.#parts.push(bytes);
    this.#waiters.push(waiter);
    this.#schedule();
    return waiter.promise;
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = async (): Promise<void> => {
    this.#scheduled = false;
    const parts = this.#parts;
    const waiters = this.#waiters;
    if (parts.length === 0) return;
    this.#parts = [];
    this.#waiters = [];
    this.#writing = true;
    try {
      await this.#write(parts.length === 1 ? parts[0] : join(parts));
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
    } finally {
      this.#writing = false;
      if (this.#parts.length > 0) this.#schedule();
    }
  };
}

function join(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
