// RFC 7541 §6: encoding header lists, tuned for gRPC responses and trailers.
import { ENTRY_OVERHEAD } from "./dynamic_table.ts";
import { ENCODER_MAX_TABLE_SIZE, EncoderTable } from "./encoder_table.ts";
import { HpackError } from "./errors.ts";
import type { HeaderField } from "./header_field.ts";
import { huffmanEncode, huffmanEncodedLength } from "./huffman.ts";
import { STATIC_INDEX } from "./static_index.ts";

// §7.1.3: secrets must never enter a table, where an attacker could confirm guesses by watching
// compressed sizes; the never-indexed form also binds intermediaries that re-encode.
const SENSITIVE = new Set(["authorization", "cookie", "set-cookie", "proxy-authorization"]);
// Repeats on nearly every response, so worth a table entry even when unusually long.
const ALWAYS_INDEX = new Set([
  ":status",
  "content-type",
  "grpc-status",
  "grpc-encoding",
  "grpc-accept-encoding",
]);
// Per-call text that would only churn the table.
const NEVER_INDEX = new Set(["grpc-message", "date"]);
// Fields with name + value up to this many bytes are assumed cheap enough to cache.
const SMALL_FIELD = 64;
// Worst-case bytes a field costs beyond its name and value: representation byte plus integer
// continuations for the index and both lengths.
const FIELD_SLACK = 16;

/** Encodes header blocks for one peer, mirroring the peer decoder's dynamic table. */
export class HpackEncoder {
  readonly #table = new EncoderTable();
  // Pending §4.2 size updates: the smallest size since the last block, then the final one.
  #pendingMin = -1;
  #pendingFinal = -1;
  #buf = new Uint8Array(512);
  #pos = 0;

  /** Starts with the RFC default 4096-byte table. */
  constructor() {}

  /** Current dynamic table size in HPACK bytes (diagnostics and tests). */
  get dynamicTableSize(): number {
    return this.#table.size;
  }

  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE changed. The encoder must then use a table no larger
   * than `size` and emit a Dynamic Table Size Update at the start of the next block (RFC 7541 §4.2,
   * §6.3). Uses min(size, 4096) as our table size (we never use more than 4096 even if allowed).
   */
  setMaxTableSize(size: number): void {
    const capped = size > 0 ? Math.min(Math.floor(size), ENCODER_MAX_TABLE_SIZE) : 0;
    if (this.#pendingMin < 0 || capped < this.#pendingMin) this.#pendingMin = capped;
    this.#pendingFinal = capped;
  }

  /**
   * Encodes one header block. Names must already be lower-case. Values are latin1 strings; a char
   * above 0xFF throws HpackError (and leaves the encoder usable). The result is the caller's own
   * copy; see `encodeTransient` for the one the connection uses.
   */
  encode(fields: readonly HeaderField[]): Uint8Array {
    const length = this.#encodeBlock(fields); // first: encoding may replace #buf with a larger one
    return this.#buf.slice(0, length);
  }

  /**
   * Like `encode`, but the result is a view of the encoder's own buffer, valid only until the next
   * call: for a caller that copies the block out at once (the connection's output writer).
   *
   * Why not a copy: any fresh ArrayBuffer costs four mallocs in Deno 2.8.3, and copies carved
   * from a shared 8 KiB slab instead (as this encoder did) pinned the slab until V8 collected the
   * last view. A slab still referenced at two scavenges is promoted, and its bytes then wait for a
   * full GC: with a 4 MiB semi-space, heaptrack found ~870 of them (4.6 MiB) held after 10 s of
   * small calls, which is why a smaller young generation used to save no memory.
   */
  encodeTransient(fields: readonly HeaderField[]): Uint8Array {
    const length = this.#encodeBlock(fields);
    return this.#buf.subarray(0, length);
  }

  /** Encodes `fields` into #buf from its start; returns the block's length. */
  #encodeBlock(fields: readonly HeaderField[]): number {
    // Validate before touching the table: failing halfway would leave entries the peer never saw.
    for (let i = 0; i < fields.length; i++) {
      if (!isLatin1(fields[i][0]) || !isLatin1(fields[i][1])) {
        throw new HpackError("header field is not a latin1 string");
      }
    }
    this.#pos = 0;
    if (this.#pendingFinal >= 0) this.#writeSizeUpdates();
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i];
      this.#encodeField(field[0], field[1]);
    }
    return this.#pos;
  }

  #writeSizeUpdates(): void {
    this.#ensure(12);
    // §4.2: a shrink followed by a grow between blocks must be signalled as both, so the peer
    // evicts what the smaller size would have evicted.
    if (this.#pendingMin < this.#pendingFinal) {
      this.#integer(0x20, 5, this.#pendingMin);
      this.#table.setCapacity(this.#pendingMin);
    }
    this.#integer(0x20, 5, this.#pendingFinal);
    this.#table.setCapacity(this.#pendingFinal);
    this.#pendingMin = -1;
    this.#pendingFinal = -1;
  }

  #encodeField(name: string, value: string): void {
    this.#ensure(name.length + value.length + FIELD_SLACK);
    const table = this.#table;
    const fromStatic = STATIC_INDEX.get(name);

    if (SENSITIVE.has(name)) {
      this.#literal(0x10, 4, fromStatic?.nameIndex ?? 0, name, value);
      return;
    }
    const exact = fromStatic?.values.get(value) ?? table.find(name, value);
    if (exact !== 0) {
      this.#integer(0x80, 7, exact);
      return;
    }
    const nameIndex = fromStatic?.nameIndex ?? table.findName(name);
    if (this.#worthIndexing(name, value)) {
      this.#literal(0x40, 6, nameIndex, name, value);
      table.insert(name, value);
    } else {
      this.#literal(0x00, 4, nameIndex, name, value);
    }
  }

  #worthIndexing(name: string, value: string): boolean {
    const length = name.length + value.length;
    // An entry over a quarter of the table would evict the small, hot entries.
    if ((length + ENTRY_OVERHEAD) * 4 > this.#table.capacity) return false;
    if (ALWAYS_INDEX.has(name)) return true;
    return length <= SMALL_FIELD && !NEVER_INDEX.has(name) && !name.endsWith("-bin");
  }

  #literal(pattern: number, prefixBits: number, nameIndex: number, name: string, value: string) {
    this.#integer(pattern, prefixBits, nameIndex);
    if (nameIndex === 0) this.#string(name);
    this.#string(value);
  }

  /** §5.2 string literal, Huffman-coded only when strictly shorter. */
  #string(s: string): void {
    const huffmanLength = huffmanEncodedLength(s);
    if (huffmanLength < s.length) {
      this.#integer(0x80, 7, huffmanLength);
      this.#pos = huffmanEncode(s, this.#buf, this.#pos);
      return;
    }
    this.#integer(0x00, 7, s.length);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.#pos = pos;
  }

  /** §5.1 integer with an N-bit prefix, OR-ed into `pattern`'s first byte. */
  #integer(pattern: number, prefixBits: number, value: number): void {
    const buf = this.#buf;
    const max = (1 << prefixBits) - 1;
    if (value < max) {
      buf[this.#pos++] = pattern | value;
      return;
    }
    buf[this.#pos++] = pattern | max;
    value -= max;
    while (value >= 0x80) {
      buf[this.#pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    buf[this.#pos++] = value;
  }

  #ensure(extra: number): void {
    const needed = this.#pos + extra;
    if (needed <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#buf.length * 2));
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
  }
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}
