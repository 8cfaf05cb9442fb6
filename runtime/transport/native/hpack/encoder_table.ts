// RFC 7541 §4: the encoder's copy of its dynamic table, with O(1) lookup by name and value.
import { ENTRY_OVERHEAD } from "./dynamic_table.ts";
import { STATIC_TABLE_LENGTH } from "./static_table.ts";

/** Largest table the encoder ever uses, whatever the peer allows. */
export const ENCODER_MAX_TABLE_SIZE = 4096;
const SLOTS = ENCODER_MAX_TABLE_SIZE / ENTRY_OVERHEAD;

interface NameEntries {
  // value -> absolute insertion number of the live entry with that name and value
  readonly values: Map<string, number>;
  // insertion number of the newest entry with this name
  latest: number;
}

/**
 * Entries are identified by an absolute insertion number, so lookups stay valid as the table
 * shifts: HPACK index = 61 + (inserted - seq). The encoder never inserts a duplicate, so every live
 * [name, value] has one number, and eviction (FIFO) drops exactly the oldest.
 */
export class EncoderTable {
  readonly #names: string[] = new Array<string>(SLOTS).fill("");
  readonly #values: string[] = new Array<string>(SLOTS).fill("");
  readonly #byName = new Map<string, NameEntries>();
  #inserted = 0;
  #oldest = 0;
  #size = 0;
  #capacity = ENCODER_MAX_TABLE_SIZE;

  /** Current size in HPACK bytes. */
  get size(): number {
    return this.#size;
  }

  /** Current maximum size. */
  get capacity(): number {
    return this.#capacity;
  }

  /** HPACK index of the exact entry, or 0. */
  find(name: string, value: string): number {
    const seq = this.#byName.get(name)?.values.get(value);
    return seq === undefined ? 0 : STATIC_TABLE_LENGTH + this.#inserted - seq;
  }

  /** HPACK index of the newest entry with this name, or 0. */
  findName(name: string): number {
    const entries = this.#byName.get(name);
    return entries === undefined ? 0 : STATIC_TABLE_LENGTH + this.#inserted - entries.latest;
  }

  /** Adds an entry the way the peer's decoder will (§4.4), evicting as needed. */
  insert(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.#capacity) {
      this.#evictTo(0);
      return;
    }
    this.#evictTo(this.#capacity - entrySize);
    const seq = this.#inserted++;
    this.#names[seq % SLOTS] = name;
    this.#values[seq % SLOTS] = value;
    this.#size += entrySize;
    let entries = this.#byName.get(name);
    if (entries === undefined) {
      entries = { values: new Map(), latest: seq };
      this.#byName.set(name, entries);
    }
    entries.values.set(value, seq);
    entries.latest = seq;
  }

  /** Sets the maximum size (≤ {@link ENCODER_MAX_TABLE_SIZE}), evicting as needed. */
  setCapacity(capacity: number): void {
    this.#capacity = capacity;
    this.#evictTo(capacity);
  }

  #evictTo(limit: number): void {
    while (this.#size > limit) {
      const seq = this.#oldest++;
      const slot = seq % SLOTS;
      const name = this.#names[slot];
      const value = this.#values[slot];
      this.#names[slot] = "";
      this.#values[slot] = "";
      this.#size -= name.length + value.length + ENTRY_OVERHEAD;
      const entries = this.#byName.get(name)!;
      if (entries.values.get(value) === seq) entries.values.delete(value);
      // FIFO order means the newest entry of a name goes last, so an empty map means none is left.
      if (entries.values.size === 0) this.#byName.delete(name);
    }
  }
}
