/**
 * Deep freezing for the resolved config.
 * @module
 */

/**
 * Freezes `value` and every object and array reachable from it, and returns
 * it.
 *
 * @example
 * ```ts
 * import { deepFreeze } from "./freeze.ts";
 * const config = deepFreeze({ server: { port: 1 } });
 * Object.isFrozen(config.server); // true
 * ```
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
