/**
 * The base64 layer of `application/grpc-web-text` (PROTOCOL-WEB.md
 * "Text-encoded (response) streams"). A request body is base64 that may
 * arrive split anywhere, and is often several padded segments end to end,
 * since clients encode each message on its own: so decoding keeps the
 * partial quantum between chunks and restarts after padding. Responses are
 * encoded a frame at a time, each padded, which the spec allows ("the
 * server runtime will always base64-encode and flush gRPC messages
 * atomically").
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const PAD = 0x3d; // "="
const SKIP = -2; // whitespace: tolerated between quanta
const INVALID = -1;

// Sextet per byte; the URL-safe alphabet too, as gRPC's own decoders accept it.
const SEXTETS = (() => {
  const table = new Int8Array(256).fill(INVALID);
  for (let i = 0; i < 64; i++) table[ALPHABET.charCodeAt(i)] = i;
  table[0x2d] = 62; // "-"
  table[0x5f] = 63; // "_"
  for (const c of [0x20, 0x09, 0x0a, 0x0d]) table[c] = SKIP;
  return table;
})();

/**
 * Decodes a base64 stream chunk by chunk. Holds at most three sextets and a
 * pending padding state between chunks; each call allocates only its output.
 *
 * @example
 * ```ts
 * const decoder = new Base64StreamDecoder();
 * const bytes = decoder.push(new TextEncoder().encode("AAAAAAV"));
 * const rest = decoder.push(new TextEncoder().encode("oaGVsbG8="));
 * decoder.end(); // null: the body ended on a quantum boundary
 * ```
 */
export class Base64StreamDecoder {
  #bits = 0; // up to 18 bits of a quantum in progress
  #count = 0; // sextets in #bits
  #padsOwed = 0; // "=" still expected to close a padded quantum
  #failed: string | null = null;

  /** Decoded bytes of `chunk` (ASCII base64); throws on invalid input, the error kept. */
  push(chunk: Uint8Array): Uint8Array {
    if (this.#failed !== null) throw new SyntaxError(this.#failed);
    const out = new Uint8Array(((this.#count + chunk.length) >> 2) * 3 + 2);
    let n = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      const sextet = SEXTETS[c];
      if (sextet === SKIP) continue;
      if (this.#padsOwed > 0) {
        if (c !== PAD) return this.#fail(`Invalid base64: expected "=" at byte ${i} of the chunk`);
        this.#padsOwed--;
        continue;
      }
      if (c === PAD) {
        // "=" closes a quantum of 2 sextets (one more "=" owed) or 3 (none owed).
        if (this.#count < 2) return this.#fail(`Invalid base64: "=" at byte ${i} of the chunk`);
        n = this.#flushPartial(out, n);
        this.#padsOwed = this.#count === 2 ? 1 : 0;
        this.#count = 0;
        this.#bits = 0;
        continue;
      }
      if (sextet === INVALID) {
        return this.#fail(`Invalid base64: byte 0x${c.toString(16)} at ${i} of the chunk`);
      }
      this.#bits = (this.#bits << 6) | sextet;
      if (++this.#count === 4) {
        out[n++] = this.#bits >>> 16;
        out[n++] = (this.#bits >>> 8) & 0xff;
        out[n++] = this.#bits & 0xff;
        this.#bits = 0;
        this.#count = 0;
      }
    }
    return out.subarray(0, n);
  }

  /**
   * Call when the body has ended: the bytes of a final unpadded quantum
   * (accepted, as gRPC peers send unpadded base64 too), or an error message
   * when the stream stopped mid-quantum or mid-padding.
   */
  end(): Uint8Array | string {
    if (this.#failed !== null) return this.#failed;
    if (this.#padsOwed > 0) return "Invalid base64: body ended before the padding did";
    if (this.#count === 1) return "Invalid base64: body ended inside a quantum";
    const out = new Uint8Array(2);
    const n = this.#count === 0 ? 0 : this.#flushPartial(out, 0);
    this.#count = 0;
    return out.subarray(0, n);
  }

  /** Writes the 1 or 2 bytes of a quantum of 2 or 3 sextets. */
  #flushPartial(out: Uint8Array, n: number): number {
    if (this.#count === 2) {
      out[n++] = (this.#bits >>> 4) & 0xff;
    } else if (this.#count === 3) {
      out[n++] = (this.#bits >>> 10) & 0xff;
      out[n++] = (this.#bits >>> 2) & 0xff;
    }
    return n;
  }

  #fail(message: string): never {
    this.#failed = message;
    throw new SyntaxError(message);
  }
}

const ENCODE = new TextEncoder().encode(ALPHABET);

/**
 * Padded standard base64 of one response frame, as ASCII bytes ready to
 * write. One allocation; no intermediate string.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(encodeBase64Frame(new Uint8Array([0x80, 0, 0, 0, 0])));
 * // "gAAAAAA="
 * ```
 */
export function encodeBase64Frame(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(frame.length / 3) * 4);
  let n = 0, i = 0;
  for (; i + 2 < frame.length; i += 3) {
    const bits = (frame[i] << 16) | (frame[i + 1] << 8) | frame[i + 2];
    out[n++] = ENCODE[bits >>> 18];
    out[n++] = ENCODE[(bits >>> 12) & 63];
    out[n++] = ENCODE[(bits >>> 6) & 63];
    out[n++] = ENCODE[bits & 63];
  }
  const rest = frame.length - i;
  if (rest > 0) {
    const bits = (frame[i] << 16) | (rest === 2 ? frame[i + 1] << 8 : 0);
    out[n++] = ENCODE[bits >>> 18];
    out[n++] = ENCODE[(bits >>> 12) & 63];
    out[n++] = rest === 2 ? ENCODE[(bits >>> 6) & 63] : PAD;
    out[n++] = PAD;
  }
  return out;
}
