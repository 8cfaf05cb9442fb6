// RFC 7541 §5.2 string literals with the Appendix B Huffman code.
import { HpackError } from "./errors.ts";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman_table.ts";

const EOS = 256;

// The decoder walks the code tree four bits at a time. A state is an internal tree node (the code is
// complete over 257 leaves, so there are exactly 256). Each transition entry packs:
//   bits 0-7 next state, bit 8 "emits a symbol", bits 9-16 that symbol, bit 17 "hit EOS".
// No code is shorter than 5 bits, so one nibble completes at most one symbol.
const EMIT = 1 << 8;
const FAIL = 1 << 17;
const { transitions: TRANSITIONS, accepting: ACCEPTING } = buildDecodeTables();

function buildDecodeTables(): { transitions: Int32Array; accepting: Uint8Array } {
  // Children: >= 1 is an internal node id (the root, 0, is never a child), < 0 is leaf -(symbol + 1).
  const child = [new Int32Array(256), new Int32Array(256)];
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym];
    let node = 0;
    for (let bit = HUFFMAN_LENGTHS[sym] - 1; bit > 0; bit--) {
      const b = (code >>> bit) & 1;
      if (child[b][node] === 0) {
        const next = nodes++;
        child[b][node] = next;
        depth[next] = depth[node] + 1;
        allOnes[next] = allOnes[node] & b;
      }
      node = child[b][node];
    }
    child[code & 1][node] = -(sym + 1);
  }

  const transitions = new Int32Array(256 * 16);
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const next = child[(nibble >>> bit) & 1][node];
        if (next >= 0) {
          node = next;
          continue;
        }
        const sym = -next - 1;
        if (sym === EOS) {
          entry = FAIL;
          break;
        }
        entry = EMIT | (sym << 9);
        node = 0;
      }
      transitions[(state << 4) | nibble] = entry === FAIL ? FAIL : entry | node;
    }
  }

  // §5.2: a string may end mid-tree only on padding that is a prefix of EOS (all ones) and
  // strictly shorter than 8 bits.
  const accepting = new Uint8Array(256);
  for (let state = 0; state < 256; state++) {
    accepting[state] = allOnes[state] && depth[state] <= 7 ? 1 : 0;
  }
  return { transitions, accepting };
}

/** Upper bound on the decoded length of `encodedLength` Huffman bytes (every code is >= 5 bits). */
export function huffmanDecodedBound(encodedLength: number): number {
  return Math.floor((encodedLength * 8) / 5);
}

/**
 * Decodes src[start, end) into `out` (which must hold {@link huffmanDecodedBound} bytes) and
 * returns the decoded length. Throws HpackError on an encoded EOS or invalid padding.
 */
export function huffmanDecode(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
): number {
  let state = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i];
    let t = TRANSITIONS[(state << 4) | (byte >>> 4)];
    if (t & EMIT) out[n++] = t >>> 9;
    else if (t & FAIL) throw new HpackError("Huffman string contains EOS");
    t = TRANSITIONS[((t & 0xff) << 4) | (byte & 0x0f)];
    if (t & EMIT) out[n++] = t >>> 9;
    else if (t & FAIL) throw new HpackError("Huffman string contains EOS");
    state = t & 0xff;
  }
  if (ACCEPTING[state] === 0) throw new HpackError("invalid Huffman padding");
  return n;
}

/** Huffman-encoded length in bytes of a string whose chars are all ≤ 0xFF. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i)];
  return (bits + 7) >>> 3;
}

/**
 * Writes the Huffman encoding of `s` (chars ≤ 0xFF) at out[pos] and returns the position after
 * it; `out` must have {@link huffmanEncodedLength} bytes free.
 */
export function huffmanEncode(s: string, out: Uint8Array, pos: number): number {
  // acc holds fewer than 8 pending bits between symbols; feeding at most 24 more keeps it within 31
  // bits, so longer codes go in two pieces.
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const code = HUFFMAN_CODES[c];
    let len = HUFFMAN_LENGTHS[c];
    if (len > 24) {
      const high = len - 16;
      acc = (acc << high) | (code >>> 16);
      bits += high;
      while (bits >= 8) {
        bits -= 8;
        out[pos++] = acc >>> bits;
      }
      acc &= (1 << bits) - 1;
      len = 16;
    }
    acc = (acc << len) | (code & ((1 << len) - 1));
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      out[pos++] = acc >>> bits;
    }
    acc &= (1 << bits) - 1;
  }
  // Pad with the most significant bits of EOS, which are all ones.
  if (bits > 0) out[pos++] = (acc << (8 - bits)) | ((1 << (8 - bits)) - 1);
  return pos;
}
