import assert from "node:assert/strict";
import { type HeaderField, HpackDecoder } from "./decoder.ts";
import { HpackEncoder } from "./encoder.ts";
import { HpackError } from "./errors.ts";
import { prng, randInt } from "./_testing.ts";

const TABLE_SIZES = [0, 64, 256, 4096];
// Bytes that select representations and prefix boundaries, to get past the first byte often.
const INTERESTING = [0x00, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xbe, 0xff];

function newDecoder(rand: () => number): HpackDecoder {
  return new HpackDecoder({
    maxTableSize: TABLE_SIZES[randInt(rand, TABLE_SIZES.length)],
    maxHeaderListSize: rand() < 0.3 ? randInt(rand, 200) : 1 << 20,
  });
}

/** Decodes, allowing only success or HpackError, and checks the table stays within bounds. */
function probe(d: HpackDecoder, bytes: Uint8Array, maxTableSize: number): void {
  try {
    const result = d.decode(bytes, 0, bytes.length);
    assert.ok(Array.isArray(result.fields));
  } catch (err) {
    if (!(err instanceof HpackError)) throw err;
  }
  assert.ok(d.dynamicTableSize <= d.dynamicTableCapacity);
  assert.ok(d.dynamicTableCapacity <= maxTableSize);
}

function randomBlock(rand: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    bytes[i] = rand() < 0.3 ? INTERESTING[randInt(rand, INTERESTING.length)] : randInt(rand, 256);
  }
  return bytes;
}

Deno.test("fuzz: random byte strings return or throw HpackError", () => {
  const rand = prng(1);
  let d = newDecoder(rand);
  let max = d.dynamicTableCapacity;
  for (let i = 0; i < 25000; i++) {
    // A decoder that threw is dead in real use, but reusing it here also probes leftover state.
    if (i % 50 === 0) {
      d = newDecoder(rand);
      max = d.dynamicTableCapacity;
    }
    probe(d, randomBlock(rand, randInt(rand, 48)), max);
  }
});

function validBlocks(rand: () => number): Uint8Array[] {
  const e = new HpackEncoder();
  const fields: HeaderField[] = [
    [":status", "200"],
    ["content-type", "application/grpc"],
    ["grpc-encoding", "gzip"],
    ["x-user", `user-${randInt(rand, 5)}`],
    ["authorization", "Bearer abc"],
    ["grpc-message", "some failure text \xe9"],
    ["x-bin", "\x00\x01\x02\xff"],
    [`x-${randInt(rand, 100)}`, "v".repeat(randInt(rand, 70))],
  ];
  const pick = () => fields.filter(() => rand() < 0.6);
  const first = e.encode(pick());
  if (rand() < 0.2) e.setMaxTableSize(randInt(rand, 300));
  return [first, e.encode(pick())];
}

function mutate(rand: () => number, block: Uint8Array): Uint8Array {
  let bytes = block.slice();
  for (let n = 1 + randInt(rand, 3); n > 0; n--) {
    const kind = randInt(rand, 4);
    if (kind === 0 && bytes.length > 0) {
      bytes[randInt(rand, bytes.length)] ^= 1 << randInt(rand, 8);
    } else if (kind === 1 && bytes.length > 0) {
      bytes = bytes.slice(0, randInt(rand, bytes.length));
    } else if (kind === 2) {
      const at = randInt(rand, bytes.length + 1);
      const inserted = randomBlock(rand, 1 + randInt(rand, 4));
      const grown = new Uint8Array(bytes.length + inserted.length);
      grown.set(bytes.subarray(0, at));
      grown.set(inserted, at);
      grown.set(bytes.subarray(at), at + inserted.length);
      bytes = grown;
    } else if (bytes.length > 0) {
      bytes[randInt(rand, bytes.length)] = INTERESTING[randInt(rand, INTERESTING.length)];
    }
  }
  return bytes;
}

Deno.test("fuzz: mutated valid blocks return or throw HpackError", () => {
  const rand = prng(2);
  for (let i = 0; i < 25000; i++) {
    const [first, second] = validBlocks(rand);
    const d = new HpackDecoder({
      maxTableSize: 4096,
      maxHeaderListSize: rand() < 0.3 ? randInt(rand, 300) : 1 << 20,
    });
    if (rand() < 0.5) {
      probe(d, mutate(rand, first), 4096);
    } else {
      // The second block refers to entries the first inserted, so mutations reach the table.
      d.decode(first, 0, first.length);
      probe(d, mutate(rand, second), 4096);
    }
  }
});
