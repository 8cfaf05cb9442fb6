/**
 * What became of recent client stream ids, so a late frame gets the answer
 * RFC 9113 §5.1 asks for: ignored if we reset the stream, STREAM_CLOSED if
 * it closed normally, PROTOCOL_ERROR if it was never opened.
 * @module
 */

/** How a stream id ended, as far as the history remembers. */
export const enum StreamFate {
  /** Never opened, or too old to remember. */
  Unknown = 0,
  Closed = 1,
  /** We sent RST_STREAM (or answered early): the client's late frames are expected. */
  Reset = 2,
}

/** Slots for the most recent odd stream ids; a ring, so nothing is ever evicted by search. */
const SLOTS = 4096;

/** The fates of the last 4096 client stream ids. O(1) per stream, fixed memory. */
export class StreamHistory {
  readonly #fates = new Uint8Array(SLOTS);
  #last = 0;

  /** Records that `id` (odd, above every earlier one) was opened. */
  opened(id: number): void {
    // Ids skipped over were never opened: clear whatever their slots held.
    const gap = Math.min((id - this.#last) / 2, SLOTS);
    for (let k = 1; k < gap; k++) this.#fates[((id >>> 1) - k) & (SLOTS - 1)] = StreamFate.Unknown;
    this.#fates[(id >>> 1) & (SLOTS - 1)] = StreamFate.Closed;
    this.#last = id;
  }

  /** Marks `id` reset by us. Ids above the last opened one are recorded as opened first. */
  reset(id: number): void {
    if (id > this.#last && id % 2 === 1) this.opened(id);
    if (!this.#remembers(id)) return;
    this.#fates[(id >>> 1) & (SLOTS - 1)] = StreamFate.Reset;
  }

  /** The fate of `id`, at or below the last opened id. */
  fate(id: number): StreamFate {
    return this.#remembers(id) ? this.#fates[(id >>> 1) & (SLOTS - 1)] : StreamFate.Unknown;
  }

  #remembers(id: number): boolean {
    return id % 2 === 1 && id <= this.#last && this.#last - id < SLOTS * 2;
  }
}
