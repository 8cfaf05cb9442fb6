// Allocating a fresh ArrayBuffer per header block costs far more than encoding it (each one is a
// tracked external allocation), so small blocks are carved out of a shared slab, as Node does for
// Buffer.allocUnsafe. Views never overlap and the encoder never writes to one after returning it.
const SLAB_SIZE = 8192;
// Larger blocks get their own buffer so one of them cannot pin a slab.
const MAX_POOLED = SLAB_SIZE / 4;
// Copying through a loop beats creating a subarray view for the short blocks that dominate.
const LOOP_COPY_MAX = 64;

let slab = new ArrayBuffer(SLAB_SIZE);
let used = 0;

/**
 * Copies src[0, length) into an exactly-sized Uint8Array, which may be a view into a shared
 * slab (its byteOffset can be non-zero and its .buffer larger than it).
 */
export function copyBlock(src: Uint8Array, length: number): Uint8Array {
  if (length > MAX_POOLED) return src.slice(0, length);
  if (used + length > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    used = 0;
  }
  const out = new Uint8Array(slab, used, length);
  used += length;
  if (length <= LOOP_COPY_MAX) {
    for (let i = 0; i < length; i++) out[i] = src[i];
  } else {
    out.set(src.subarray(0, length));
  }
  return out;
}
