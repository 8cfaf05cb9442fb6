import type { MetadataValue } from "./errors.ts";

/**
 * gRPC metadata (request headers, response headers or trailers). Keys are
 * lower-case; keys ending in `-bin` hold bytes, all others text.
 *
 * @example
 * ```ts
 * const key = ctx.metadata.get("x-api-key");
 * ```
 */
export class Metadata {
  readonly #entries = new Map<string, MetadataValue[]>();

  /** Builds metadata from a plain record (values may be arrays). */
  static from(record: Record<string, MetadataValue | MetadataValue[]> = {}): Metadata {
    const md = new Metadata();
    for (const [key, value] of Object.entries(record)) {
      for (const v of Array.isArray(value) ? value : [value]) md.add(key, v);
    }
    return md;
  }

  /** The first value for `key`, or undefined. */
  get(key: string): MetadataValue | undefined {
    return this.#entries.get(key.toLowerCase())?.[0];
  }

  /** Every value for `key`. */
  getAll(key: string): MetadataValue[] {
    return this.#entries.get(key.toLowerCase()) ?? [];
  }

  /** Whether `key` is present. */
  has(key: string): boolean {
    return this.#entries.has(key.toLowerCase());
  }

  /** Replaces every value of `key`. */
  set(key: string, value: MetadataValue): void {
    this.#entries.set(key.toLowerCase(), [value]);
  }

  /** Adds a value to `key`. */
  add(key: string, value: MetadataValue): void {
    const k = key.toLowerCase();
    const list = this.#entries.get(k);
    if (list) list.push(value);
    else this.#entries.set(k, [value]);
  }

  /** Removes `key`. */
  delete(key: string): void {
    this.#entries.delete(key.toLowerCase());
  }

  /** Number of distinct keys. */
  get size(): number {
    return this.#entries.size;
  }

  /** `[key, values]` pairs. */
  entries(): IterableIterator<[string, MetadataValue[]]> {
    return this.#entries.entries();
  }

  /** A plain record: single values as-is, repeated values as arrays. */
  toJSON(): Record<string, MetadataValue | MetadataValue[]> {
    const out: Record<string, MetadataValue | MetadataValue[]> = {};
    for (const [k, v] of this.#entries) out[k] = v.length === 1 ? v[0] : [...v];
    return out;
  }
}
