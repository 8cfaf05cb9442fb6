/**
 * A cache of the protobuf encodings of strings that recur from span to span.
 * @module
 */
import type { ProtoWriter } from "./proto_writer.ts";

/**
 * Encodings of strings that recur from message to message (a method's span
 * name, a connection's peer), encoded once and then copied; keyed by
 * content. The bytes share one arena (each entry a view into it), as a
 * small ArrayBuffer each would cost more to make than it saves. A full
 * arena starts over, so memory stays bounded; if little of it was read
 * again (more peers than fit), the cache stands aside for a while, as
 * misses cost more than encoding afresh.
 */
export class EncodingCache {
  #map = new Map<string, Uint8Array>();
  #arena: Uint8Array;
  #used = 0;
  #hits = 0;
  /** Strings still to encode without the cache, after a round that did not pay. */
  #pause = 0;
  #encode: (w: ProtoWriter, s: string) => void;

  /** `encode` writes what `s` stands for; it must depend on `s` only. */
  constructor(encode: (w: ProtoWriter, s: string) => void, arenaSize = 64 * 1024) {
    this.#encode = encode;
    this.#arena = new Uint8Array(arenaSize);
  }

  /** Writes `encode(w, s)`, from the cache when it can. */
  write(w: ProtoWriter, s: string): void {
    if (this.#pause > 0) {
      this.#pause--;
      return this.#encode(w, s);
    }
    const bytes = this.#map.get(s);
    if (bytes !== undefined) {
      this.#hits++;
      return w.raw(bytes);
    }
    const mark = w.pos;
    this.#encode(w, s);
    const n = w.pos - mark;
    // Empty ones would fill the map without using the arena; long ones are rare.
    if (n === 0 || n > 0xff) return;
    if (this.#used + n > this.#arena.length) {
      if (this.#hits < this.#map.size) this.#pause = 4 * this.#map.size;
      this.#map.clear();
      this.#used = 0;
      this.#hits = 0;
    }
    const used = this.#used;
    const entry = this.#arena.subarray(used, used + n);
    entry.set(w.buf.subarray(mark, mark + n));
    this.#map.set(s, entry);
    this.#used = used + n;
  }
}
