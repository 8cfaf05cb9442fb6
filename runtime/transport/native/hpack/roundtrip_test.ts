import assert from "node:assert/strict";
import { type HeaderField, HpackDecoder } from "./decoder.ts";
import { HpackEncoder } from "./encoder.ts";
import { prng, randInt } from "./_testing.ts";

const NAMES = [
  ":status",
  "content-type",
  "grpc-status",
  "grpc-message",
  "grpc-encoding",
  "grpc-accept-encoding",
  "authorization",
  "cookie",
  "set-cookie",
  "date",
  "x-trace-bin",
  "accept-charset",
  "user-agent",
];

/** Random latin1 text, mostly short and printable, sometimes long or binary. */
function randomString(rand: () => number): string {
  const roll = rand();
  const length = roll < 0.05
    ? 0
    : roll < 0.8
    ? randInt(rand, 24)
    : roll < 0.97
    ? randInt(rand, 300)
    : randInt(rand, 5000);
  const binary = rand() < 0.2;
  let s = "";
  for (let i = 0; i < length; i++) {
    s += String.fromCharCode(binary ? randInt(rand, 256) : 0x20 + randInt(rand, 0x5f));
  }
  return s;
}

function randomField(rand: () => number, recent: HeaderField[]): HeaderField {
  const roll = rand();
  if (roll < 0.4 && recent.length > 0) return recent[randInt(rand, recent.length)];
  const name = roll < 0.7 ? NAMES[randInt(rand, NAMES.length)] : `x-${randInt(rand, 40)}`;
  return [name, rand() < 0.5 ? String(randInt(rand, 20)) : randomString(rand)];
}

Deno.test("round trip: random header lists with table size changes", () => {
  const rand = prng(0xc0ffee);
  let e = new HpackEncoder();
  let d = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 1 << 30 });
  const recent: HeaderField[] = [];
  for (let block = 0; block < 5000; block++) {
    if (block % 1000 === 999) {
      e = new HpackEncoder();
      d = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 1 << 30 });
    }
    if (rand() < 0.05) {
      const sizes = [0, 32, 100, 256, 1000, 4096, 8192];
      for (let n = 1 + randInt(rand, 2); n > 0; n--) {
        e.setMaxTableSize(sizes[randInt(rand, sizes.length)]);
      }
    }
    const fields: HeaderField[] = [];
    for (let n = randInt(rand, 12); n > 0; n--) {
      const field = randomField(rand, recent);
      fields.push(field);
      recent.push(field);
      if (recent.length > 64) recent.shift();
    }
    const bytes = e.encode(fields);
    const result = d.decode(bytes, 0, bytes.length);
    assert.deepEqual(result.fields, fields, `block ${block}`);
    assert.equal(d.dynamicTableSize, e.dynamicTableSize, `block ${block}`);
  }
});
