/**
 * The one error the canonical JSON mapping throws for bad input, and the
 * path helpers that name where in the message the problem is.
 * @module
 */

/**
 * Thrown by `jsonToBinary()` and `binaryToJson()` when the input does not fit
 * the message type. `message` reads like
 * `features[2].location.latitude: expected a number, got "north"`; `path` is
 * the part before the colon ("" for the top-level value itself).
 *
 * @example
 * ```ts
 * try {
 *   jsonToBinary(type, '{"latitude":"north"}');
 * } catch (error) {
 *   if (error instanceof JsonMappingError) console.log(error.path); // "latitude"
 * }
 * ```
 */
export class JsonMappingError extends Error {
  override readonly name = "JsonMappingError";
  /** Where the problem is: `a.b[2]`, `labels["k"]`, or "" for the whole value. */
  readonly path: string;
  constructor(path: string, reason: string) {
    super(path ? `${path}: ${reason}` : reason);
    this.path = path;
  }
}

/**
 * `path` extended by a field name (`a` → `a.b`).
 *
 * @example
 * ```ts
 * fieldPath("a", "b"); // "a.b"
 * ```
 */
export function fieldPath(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/**
 * `path` extended by an array index (`a` → `a[2]`).
 *
 * @example
 * ```ts
 * indexPath("a", 2); // "a[2]"
 * ```
 */
export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

/**
 * `path` extended by a map key (`labels` → `labels["k"]`).
 *
 * @example
 * ```ts
 * keyPath("labels", "k"); // 'labels["k"]'
 * ```
 */
export function keyPath(path: string, key: string): string {
  return `${path}[${JSON.stringify(key)}]`;
}

/**
 * A short description of a JSON value for error messages: `"north"`,
 * `an object`, `null`, `12`.
 *
 * @example
 * ```ts
 * describeJson("north"); // '"north"'
 * ```
 */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  }
  if (Array.isArray(value)) return "an array";
  if (value instanceof Map) return "an object";
  return String(value);
}
