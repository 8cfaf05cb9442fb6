/**
 * Input bytes not yet consumed, in one growable buffer. A socket's chunk may
 * be reused once its callback returns, so what is kept is copied; growing by
 * doubling keeps a 1-byte-at-a-time client linear, not quadratic.
 * @module
 */

/**
 * A FIFO of bytes with a contiguous view of what is buffered.
 *
 * @example
 * ```ts
 * const queue = new ByteQueue();
 * queue.append(new Uint8Array([1, 2, 3]));
 * queue.consume(1);
 * queue.view(); // Uint8Array [2, 3]
 * ```
 */
export class ByteQueue {
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /** Bytes buffered. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Copies `chunk` in. */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#end + chunk.length > this.#buffer.length) this.#grow(chunk.length);
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The buffered bytes; valid until the next append or consume. */
  view(): Uint8Array {
    return this.#buffer.subarray(this.#start, this.#end);
  }

  /** Drops the first `count` bytes. */
  consume(count: number): void {
    this.#start += Math.min(count, this.length);
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Drops everything and lets go of the buffer. */
  clear(): void {
    this.#buffer = new Uint8Array(0);
    this.#start = this.#end = 0;
  }

  #grow(extra: number): void {
    const length = this.length;
    const needed = length + extra;
    if (needed <= this.#buffer.length && this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    } else {
      const next = new Uint8Array(Math.max(needed, this.#buffer.length * 2, 1024));
      next.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = next;
    }
    this.#start = 0;
    this.#end = length;
  }
}
