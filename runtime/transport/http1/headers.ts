/**
 * A request's header fields: lower-case names, repeated fields kept in
 * order. Not the Web `Headers`, which joins repeats with ", " and so hides
 * the duplicate Content-Length or Host that request smuggling relies on.
 * @module
 */

/**
 * Read-only header fields of one request.
 *
 * @example
 * ```ts
 * const headers = new Http1Headers([["host", "a"], ["accept", "x"], ["accept", "y"]]);
 * headers.get("Accept"); // "x, y"
 * headers.getAll("accept"); // ["x", "y"]
 * ```
 */
export class Http1Headers implements Iterable<readonly [string, string]> {
  readonly #fields: readonly (readonly [string, string])[];

  /** `fields` must already have lower-case names. */
  constructor(fields: readonly (readonly [string, string])[]) {
    this.#fields = fields;
  }

  /** The values of `name`, joined with ", " as RFC 9110 §5.3 allows, or null. */
  get(name: string): string | null {
    const values = this.getAll(name);
    return values.length === 0 ? null : values.join(", ");
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const values: string[] = [];
    for (const [field, value] of this.#fields) if (field === key) values.push(value);
    return values;
  }

  has(name: string): boolean {
    const key = name.toLowerCase();
    return this.#fields.some(([field]) => field === key);
  }

  /** Number of fields, repeats counted. */
  get size(): number {
    return this.#fields.length;
  }

  [Symbol.iterator](): Iterator<readonly [string, string]> {
    return this.#fields[Symbol.iterator]();
  }
}
