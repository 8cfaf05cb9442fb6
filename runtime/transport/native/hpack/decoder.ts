// RFC 7541 §6: decoding header field representations into a header list.
import { DynamicTable, ENTRY_OVERHEAD } from "./dynamic_table.ts";
import { HpackError } from "./errors.ts";
import type { HeaderField } from "./header_field.ts";
import { huffmanDecode, huffmanDecodedBound } from "./huffman.ts";
import { latin1Cached } from "./latin1.ts";
import { STATIC_TABLE, STATIC_TABLE_LENGTH } from "./static_table.ts";

export type { HeaderField };

/** Result of {@link HpackDecoder.decode}. */
export interface DecodeResult {
  /** Fields in block order; empty when `oversized`. */
  fields: HeaderField[];
  /** The list exceeded maxHeaderListSize; the block was still fully processed. */
  oversized: boolean;
  /** RFC 9113 §6.5.2 size of the whole decoded list. */
  size: number;
}

// RFC 7541 §5.1 integers are unbounded; we accept what fits in 31 bits, which needs at most five
// continuation bytes, and reject longer runs so a hostile block cannot spin or overflow.
const MAX_INT = 0x7fffffff;
const MAX_CONTINUATION_BYTES = 5;
// Huffman scratch larger than this is not kept between blocks, so one huge block cannot pin memory.
const SCRATCH_KEEP_LIMIT = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** Decodes header blocks from one peer, keeping its dynamic table in sync with that peer's encoder. */
export class HpackDecoder {
  readonly #table: DynamicTable;
  readonly #maxTableSize: number;
  readonly #maxHeaderListSize: number;
  #scratch = new Uint8Array(256);
  // Cursor over the block being decoded; #bytes is released after each decode().
  #bytes: Uint8Array = EMPTY;
  #pos = 0;
  #end = 0;
  // Decoded byte length of the last string read, also when its text was not built.
  #stringLength = 0;

  /**
   * maxTableSize: our SETTINGS_HEADER_TABLE_SIZE (4096). maxHeaderListSize: RFC 9113 §6.5.2 size
   * (sum of name.length + value.length + 32).
   */
  constructor(options: { maxTableSize: number; maxHeaderListSize: number }) {
    this.#maxTableSize = options.maxTableSize;
    this.#maxHeaderListSize = options.maxHeaderListSize;
    this.#table = new DynamicTable(options.maxTableSize);
  }

  /** Current dynamic table size in HPACK bytes (diagnostics and tests). */
  get dynamicTableSize(): number {
    return this.#table.size;
  }

  /** Current dynamic table capacity from the last size update (diagnostics and tests). */
  get dynamicTableCapacity(): number {
    return this.#table.capacity;
  }

  /** Dynamic table entries, newest (HPACK index 62) first (diagnostics and tests). */
  dynamicTableEntries(): HeaderField[] {
    return this.#table.entries();
  }

  /**
   * Decodes one complete header block (bytes[start, end)). Returns the fields in order.
   * If the decoded list size exceeds maxHeaderListSize, it KEEPS DECODING to the end (the dynamic
   * table must stay in sync with the peer's encoder) but stops collecting fields, and returns
   * { fields: [], oversized: true, size }. Throws HpackError on malformed input, after which the
   * table is out of sync with the peer and the connection must end (COMPRESSION_ERROR).
   */
  decode(bytes: Uint8Array, start: number, end: number): DecodeResult {
    if (!(start >= 0 && start <= end && end <= bytes.length)) {
      throw new HpackError("header block range out of bounds");
    }
    this.#bytes = bytes;
    this.#pos = start;
    this.#end = end;
    try {
      return this.#decodeBlock();
    } finally {
      this.#bytes = EMPTY;
      if (this.#scratch.length > SCRATCH_KEEP_LIMIT) this.#scratch = new Uint8Array(256);
    }
  }

  #decodeBlock(): DecodeResult {
    const bytes = this.#bytes;
    const end = this.#end;
    const table = this.#table;
    const fields: HeaderField[] = [];
    let size = 0;
    let oversized = false;
    let sawField = false;

    while (this.#pos < end) {
      const first = bytes[this.#pos];
      let field: HeaderField;
      let fieldSize: number;
      if (first & 0x80) {
        // §6.1 Indexed Header Field: the table's own entry, no copy.
        field = this.#fieldAt(this.#integer(0x7f));
        fieldSize = field[0].length + field[1].length;
      } else if (first & 0x40) {
        // §6.2.1 Literal with Incremental Indexing: always materialized, the table needs it.
        const index = this.#integer(0x3f);
        const name = index === 0 ? this.#string(true) : this.#nameAt(index);
        field = [name, this.#string(true)];
        fieldSize = field[0].length + field[1].length;
        table.insert(field);
      } else if (first & 0x20) {
        // §6.3 Dynamic Table Size Update; §4.2 allows it only before the first field.
        if (sawField) throw new HpackError("dynamic table size update after a header field");
        const capacity = this.#integer(0x1f);
        if (capacity > this.#maxTableSize) {
          throw new HpackError("dynamic table size update exceeds SETTINGS_HEADER_TABLE_SIZE");
        }
        table.setCapacity(capacity);
        continue;
      } else {
        // §6.2.2 without indexing (0000) and §6.2.3 never indexed (0001): nothing outlives this
        // block, so skip building the text once the list is already oversized.
        const index = this.#integer(0x0f);
        const keep = !oversized;
        let name: string;
        if (index === 0) {
          name = this.#string(keep);
          fieldSize = this.#stringLength;
        } else {
          name = this.#nameAt(index);
          fieldSize = name.length;
        }
        const value = this.#string(keep);
        fieldSize += this.#stringLength;
        field = [name, value];
      }
      sawField = true;
      size += fieldSize + ENTRY_OVERHEAD;
      if (oversized) continue;
      if (size > this.#maxHeaderListSize) {
        oversized = true;
        fields.length = 0;
      } else {
        fields.push(field);
      }
    }
    return { fields, oversized, size };
  }

  /** §5.1 integer with a prefix of `mask` (2^N - 1); the first byte is known to be present. */
  #integer(mask: number): number {
    const bytes = this.#bytes;
    let value = bytes[this.#pos++] & mask;
    if (value < mask) return value;
    // Multiplying instead of shifting keeps the arithmetic exact past 32 bits, so overflow is
    // caught by the range check instead of wrapping.
    let scale = 1;
    for (let i = 0; i < MAX_CONTINUATION_BYTES; i++) {
      if (this.#pos >= this.#end) throw new HpackError("truncated integer");
      const b = bytes[this.#pos++];
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (value > MAX_INT) throw new HpackError("integer overflow");
        return value;
      }
      scale *= 128;
    }
    throw new HpackError("integer has too many continuation bytes");
  }

  /** §5.2 string literal; returns "" without building it unless `keep`. Sets #stringLength. */
  #string(keep: boolean): string {
    if (this.#pos >= this.#end) throw new HpackError("truncated string literal");
    const huffman = (this.#bytes[this.#pos] & 0x80) !== 0;
    const length = this.#integer(0x7f);
    const start = this.#pos;
    // Checked before anything is allocated, so a forged length cannot cost memory.
    if (length > this.#end - start) throw new HpackError("string literal longer than the block");
    this.#pos = start + length;
    if (!huffman) {
      this.#stringLength = length;
      return keep ? latin1Cached(this.#bytes, start, start + length) : "";
    }
    const bound = huffmanDecodedBound(length);
    if (bound > this.#scratch.length) {
      this.#scratch = new Uint8Array(Math.max(bound, 2 * this.#scratch.length));
    }
    const n = huffmanDecode(this.#bytes, start, start + length, this.#scratch);
    this.#stringLength = n;
    return keep ? latin1Cached(this.#scratch, 0, n) : "";
  }

  #nameAt(index: number): string {
    return this.#fieldAt(index)[0];
  }

  #fieldAt(index: number): HeaderField {
    if (index === 0) throw new HpackError("index 0");
    if (index <= STATIC_TABLE_LENGTH) return STATIC_TABLE[index - 1];
    const i = index - STATIC_TABLE_LENGTH - 1;
    if (i >= this.#table.length) throw new HpackError(`index ${index} out of range`);
    return this.#table.field(i);
  }
}
