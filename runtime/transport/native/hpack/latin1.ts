// fromCharCode.apply copies arguments onto the stack, so long inputs go in chunks; joining the
// chunks once keeps the whole conversion linear.
const CHUNK = 4096;
// Below this, a plain loop beats allocating a subarray view for apply().
const SMALL = 16;

/**
 * Converts bytes[start, end) to a string with one char per byte. TextDecoder("latin1") is not an
 * option: WHATWG maps that label to windows-1252, which rewrites 0x80-0x9F.
 */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length <= SMALL) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
    return s;
  }
  if (length <= CHUNK) return fromBytes(bytes.subarray(start, end));
  const parts: string[] = [];
  for (let i = start; i < end; i += CHUNK) {
    parts.push(fromBytes(bytes.subarray(i, Math.min(i + CHUNK, end))));
  }
  return parts.join("");
}

function fromBytes(view: Uint8Array): string {
  return String.fromCharCode.apply(null, view as unknown as number[]);
}

// Short literals repeat from call to call: h2load and nghttp2 never index
// `:path` or `content-length`, so every request carries them as literals.
// A small cache, shared by all connections (strings are immutable and the
// match is by content), returns the same string instead of building a new
// one, and Map lookups by that string then reuse its cached hash.
const CACHE_SLOTS = 512;
const CACHE_MAX_LENGTH = 64;
const cache: (string | undefined)[] = new Array(CACHE_SLOTS).fill(undefined);

/** {@link latin1}, returning a cached string for short inputs seen before. */
export function latin1Cached(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length > CACHE_MAX_LENGTH) return latin1(bytes, start, end);
  let hash = length;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + bytes[i]) | 0;
  const slot = (hash ^ (hash >>> 15)) & (CACHE_SLOTS - 1);
  const cached = cache[slot];
  if (cached !== undefined && cached.length === length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (cached.charCodeAt(i) !== bytes[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const text = latin1(bytes, start, end);
  cache[slot] = text;
  return text;
}
