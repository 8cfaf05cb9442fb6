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
