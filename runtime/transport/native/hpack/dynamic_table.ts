// RFC 7541 §4: the decoder's dynamic table, a FIFO ring of [name, value] sized in HPACK bytes.
import type { HeaderField } from "./header_field.ts";

/** RFC 7541 §4.1: bytes each entry costs on top of its name and value. */
export const ENTRY_OVERHEAD = 32;

const EMPTY: HeaderField = ["", ""];

/** Decoder-side dynamic table. Index 0 is the newest entry (HPACK index 62). */
export class DynamicTable {
  // Every entry costs at least ENTRY_OVERHEAD, so this many slots can never overflow.
  readonly #slots: number;
  readonly #fields: HeaderField[];
  #next = 0;
  #count = 0;
  #size = 0;
  #capacity: number;

  /** @param maxSize the largest capacity a size update may ask for; also the initial capacity */
  constructor(maxSize: number) {
    this.#slots = Math.max(1, Math.floor(maxSize / ENTRY_OVERHEAD));
    this.#fields = new Array<HeaderField>(this.#slots).fill(EMPTY);
    this.#capacity = maxSize;
  }

  /** Number of entries. */
  get length(): number {
    return this.#count;
  }

  /** Current size in HPACK bytes. */
  get size(): number {
    return this.#size;
  }

  /** Current maximum size set by the last size update. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Entry `i` (0 = newest); the caller checks `i < length`. */
  field(i: number): HeaderField {
    return this.#fields[this.#slot(i)];
  }

  /** Adds an entry, evicting the oldest as needed; one larger than the capacity empties the table. */
  insert(field: HeaderField): void {
    const entrySize = field[0].length + field[1].length + ENTRY_OVERHEAD;
    if (entrySize > this.#capacity) {
      this.#evictTo(0);
      return;
    }
    this.#evictTo(this.#capacity - entrySize);
    this.#fields[this.#next] = field;
    this.#next = this.#next + 1 === this.#slots ? 0 : this.#next + 1;
    this.#count++;
    this.#size += entrySize;
  }

  /** Applies a Dynamic Table Size Update (the caller has checked it against the setting). */
  setCapacity(capacity: number): void {
    this.#capacity = capacity;
    this.#evictTo(capacity);
  }

  /** Entries newest first, for diagnostics and tests. */
  entries(): HeaderField[] {
    const out: HeaderField[] = [];
    for (let i = 0; i < this.#count; i++) out.push(this.field(i));
    return out;
  }

  #slot(i: number): number {
    const s = this.#next - 1 - i;
    return s < 0 ? s + this.#slots : s;
  }

  #evictTo(limit: number): void {
    while (this.#size > limit) {
      const s = this.#slot(this.#count - 1);
      const [name, value] = this.#fields[s];
      this.#size -= name.length + value.length + ENTRY_OVERHEAD;
      // Drop the reference so the evicted entry can be collected.
      this.#fields[s] = EMPTY;
      this.#count--;
    }
  }
}
