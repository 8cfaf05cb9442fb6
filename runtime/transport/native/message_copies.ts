/**
 * Copies of request messages out of the socket's read buffer, which is
 * reused once a read is handled (shared_read_buffer.ts).
 *
 * In Deno 2.8.3 every typed array made with `new` or `slice`, even a
 * 12-byte one, gets a malloc'd backing store: four mallocs (the bytes, the
 * BackingStore, its shared pointer, V8's extension), freed later on V8's
 * sweeper thread (heaptrack: 4 allocations per call for a 12-byte request
 * copied with `slice`; a `subarray` makes none). So small messages are
 * copied into a shared slab instead, each a `subarray` of it, the way
 * Node's Buffer pool serves `allocUnsafe`. A slab lives until the last
 * message cut from it is collected; a filled one is simply dropped.
 *
 * 4 KiB, not Node's 8: a slab that is still referenced at two scavenges
 * is promoted, and then its bytes wait for a full GC. With 16 KiB slabs and
 * a 2 MiB semi-space, heaptrack found 1,585 of them (19.5 MiB) held after
 * 10 s of small calls; a smaller slab fills, and is dropped, four times as
 * fast, for four more mallocs per 4 KiB of messages.
 * @module
 */

/** Messages up to this size share a slab; larger ones get their own copy. */
export const SMALL_MESSAGE_BYTES = 1024;
const SLAB_BYTES = 4 * 1024;

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/** A copy of `bytes[start, start + length)` that outlives the read buffer. */
export function copyMessage(bytes: Uint8Array, start: number, length: number): Uint8Array {
  if (length > SMALL_MESSAGE_BYTES) return bytes.slice(start, start + length);
  const offset = copyToSlab(bytes, start, length);
  return slab.subarray(offset, offset + length);
}

/**
 * Copies `bytes[start, start + length)`, at most SMALL_MESSAGE_BYTES, into
 * the current slab and returns where: `currentSlab()[offset, offset +
 * length)` until the next copy. For a caller that keeps the message a
 * while and makes its view later (a client stream's queue): a view made
 * now would outlive scavenges and be promoted.
 */
export function copyToSlab(bytes: Uint8Array, start: number, length: number): number {
  if (used + length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const offset = used;
  // Aligned to 8 bytes so a view's Float64 or BigInt64 reads stay aligned, as in Node's pool.
  used = (offset + length + 7) & ~7;
  const target = slab;
  for (let i = 0; i < length; i++) target[offset + i] = bytes[start + i];
  return offset;
}

/** The slab the last {@link copyToSlab} wrote into. */
export function currentSlab(): Uint8Array {
  return slab;
}
