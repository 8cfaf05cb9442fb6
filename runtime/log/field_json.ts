/**
 * Log field values as JSON that cannot throw. Handlers throw and log
 * anything: objects with circular references or a circular `cause`, getters
 * that throw, proxies. The logger runs while a call is being ended, so if
 * it threw, the call would never get its status. JSON.stringify is tried
 * first (the common case, and the same text as before); only when it throws
 * is the value copied with cycles, depth and unreadable members marked.
 * @module
 */

/** Deeper than this, a value is written as "[Too deep]". */
const MAX_DEPTH = 10;

/**
 * `value` as JSON, or undefined for what JSON leaves out (functions,
 * symbols, undefined). Errors keep name, message, stack and cause; bigints
 * become strings. Never throws.
 *
 * @example
 * ```ts
 * const o: Record<string, unknown> = {};
 * o.self = o;
 * fieldJson(o); // '{"self":"[Circular]"}'
 * ```
 */
export function fieldJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, replaceErrors);
  } catch {
    try {
      return JSON.stringify(_safeCopy(value, new Set(), 0));
    } catch (error) {
      return JSON.stringify(`[unserialisable: ${_describe(error)}]`);
    }
  }
}

/** JSON.stringify's replacer for log fields: Errors have no enumerable fields; keep what an operator needs. */
export function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.stack) out.stack = value.stack;
    if (value.cause !== undefined) out.cause = value.cause;
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** A plain copy of `value` that JSON.stringify can write; `ancestors` holds the path from the root. */
function _safeCopy(value: unknown, ancestors: Set<object>, depth: number): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  if (value === null || typeof value !== "object") return value;
  if (ancestors.has(value)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Too deep]";
  ancestors.add(value);
  try {
    if (value instanceof Error) {
      const out: Record<string, unknown> = {
        name: _read(value, "name", ancestors, depth),
        message: _read(value, "message", ancestors, depth),
      };
      const stack = _read(value, "stack", ancestors, depth);
      if (stack) out.stack = stack;
      const cause = _read(value, "cause", ancestors, depth);
      if (cause !== undefined) out.cause = cause;
      return out;
    }
    if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
      return _safeCopy((value as { toJSON(): unknown }).toJSON(), ancestors, depth + 1);
    }
    if (Array.isArray(value)) {
      return value.map((item) => _safeCopy(item, ancestors, depth + 1) ?? null);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = _read(value, key, ancestors, depth);
    return out;
  } catch (error) {
    return `[unreadable: ${_describe(error)}]`;
  } finally {
    ancestors.delete(value);
  }
}

function _read(obj: object, key: string, ancestors: Set<object>, depth: number): unknown {
  try {
    return _safeCopy((obj as Record<string, unknown>)[key], ancestors, depth + 1);
  } catch (error) {
    return `[unreadable: ${_describe(error)}]`;
  }
}

function _describe(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return "unknown error";
  }
}
