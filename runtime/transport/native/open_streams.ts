/**
 * A connection's open streams by id, without a `Map`.
 *
 * Why not a Map: V8 keeps a Map's entries in a hash table that it replaces
 * when deletions fill it, and the table it drops keeps its entries and a
 * pointer to its successor (so live iterators can follow). A stream table
 * opens and closes a stream per call, so it is replaced every few dozen
 * calls. Once one of those tables sits in the old generation (any
 * mark-compact under load puts it there), every later table, and every
 * finished call each one still holds, is reachable from it until the next
 * mark-compact: each scavenge promotes them all, the old generation fills in
 * ~200 ms, and the next mark-compact starts the chain again. Measured on
 * unary-small (bench/README.md, "The stream table's Map"): about a third of
 * everything allocated survived each scavenge, a mark-compact ran every 200
 * ms, CPU per call rose ~40 % and the process held ~80 MiB more, in the runs
 * where the chain had started.
 *
 * Here: two arrays in opening order, ids ascending (RFC 9113 §5.1.1: a
 * client's stream ids only increase), so a lookup is a binary search over the
 * few streams a connection has open. A closed stream leaves a null slot,
 * dropped from the end at once and compacted in place once holes outnumber
 * the open streams. The arrays are reused, never replaced by the table.
 * @module
 */

/** Compact once there are more holes than this and than open streams. */
const MIN_HOLES_TO_COMPACT = 32;

/** The Map methods the connection uses, over streams keyed by their ids. */
export interface ReadonlyOpenStreams<S> {
  readonly size: number;
  get(id: number): S | undefined;
  /** A snapshot: safe to close streams while going through it. */
  values(): S[];
}

/** Open streams by id; ids must be added in increasing order. */
export class OpenStreams<S extends { readonly id: number }> implements ReadonlyOpenStreams<S> {
  /** Ids in opening order, ascending; slots [0, #end) are in use. */
  readonly #ids: number[] = [];
  /** The stream in each slot, null once closed. */
  readonly #slots: (S | null)[] = [];
  #end = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: number): S | undefined {
    const i = this.#find(id);
    return i < 0 ? undefined : this.#slots[i] ?? undefined;
  }

  /** Adds `stream`, whose id must be above every id added before. */
  set(id: number, stream: S): this {
    if (this.#end > 0 && id <= this.#ids[this.#end - 1]) {
      throw new Error(`stream ${id} added after stream ${this.#ids[this.#end - 1]}`);
    }
    const end = this.#end;
    if (end === this.#ids.length) {
      this.#ids.push(id);
      this.#slots.push(stream);
    } else {
      this.#ids[end] = id;
      this.#slots[end] = stream;
    }
    this.#end = end + 1;
    this.#size++;
    return this;
  }

  delete(id: number): boolean {
    const i = this.#find(id);
    if (i < 0 || this.#slots[i] === null) return false;
    const slots = this.#slots;
    slots[i] = null;
    this.#size--;
    let end = this.#end;
    while (end > 0 && slots[end - 1] === null) end--;
    this.#end = end;
    const holes = end - this.#size;
    if (holes > MIN_HOLES_TO_COMPACT && holes > this.#size) this.#compact();
    return true;
  }

  values(): S[] {
    const out: S[] = [];
    for (let i = 0; i < this.#end; i++) {
      const stream = this.#slots[i];
      if (stream !== null) out.push(stream);
    }
    return out;
  }

  clear(): void {
    this.#slots.fill(null, 0, this.#end);
    this.#end = 0;
    this.#size = 0;
  }

  /** The slot of `id` in [0, #end), or -1. */
  #find(id: number): number {
    const ids = this.#ids;
    let lo = 0;
    let hi = this.#end - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = ids[mid];
      if (at === id) return mid;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Moves the open streams to the front, in order, and clears the slots behind them. */
  #compact(): void {
    const ids = this.#ids;
    const slots = this.#slots;
    let j = 0;
    for (let i = 0; i < this.#end; i++) {
      const stream = slots[i];
      if (stream === null) continue;
      ids[j] = ids[i];
      slots[j] = stream;
      j++;
    }
    slots.fill(null, j, this.#end);
    this.#end = j;
  }
}
