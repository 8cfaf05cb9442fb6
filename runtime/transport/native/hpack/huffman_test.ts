import assert from "node:assert/strict";
import { HpackError } from "./errors.ts";
import {
  huffmanDecode,
  huffmanDecodedBound,
  huffmanEncode,
  huffmanEncodedLength,
} from "./huffman.ts";
import { latin1 } from "./latin1.ts";
import { hex, prng, randInt } from "./_testing.ts";

function decode(bytes: Uint8Array): string {
  const out = new Uint8Array(huffmanDecodedBound(bytes.length));
  return latin1(out, 0, huffmanDecode(bytes, 0, bytes.length, out));
}

function encode(s: string): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(s));
  assert.equal(huffmanEncode(s, out, 0), out.length);
  return out;
}

// Strings from RFC 7541 Appendix C.4 and C.6.
const VECTORS: [string, string][] = [
  ["f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"],
  ["a8eb 1064 9cbf", "no-cache"],
  ["25a8 49e9 5ba9 7d7f", "custom-key"],
  ["25a8 49e9 5bb8 e8b4 bf", "custom-value"],
  ["6402", "302"],
  ["aec3 771a 4b", "private"],
  ["d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT"],
  ["9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com"],
  ["9bd9 ab", "gzip"],
  [
    "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
  ],
];

Deno.test("huffman: RFC 7541 Appendix C strings decode and encode", () => {
  for (const [dump, text] of VECTORS) {
    assert.equal(decode(hex(dump)), text);
    assert.deepEqual(encode(text), hex(dump));
  }
});

Deno.test("huffman: every octet round-trips, alone and in random strings", () => {
  for (let c = 0; c < 256; c++) {
    const s = String.fromCharCode(c).repeat(3);
    assert.equal(decode(encode(s)), s);
  }
  const rand = prng(7);
  for (let n = 0; n < 2000; n++) {
    let s = "";
    const length = randInt(rand, 64);
    for (let i = 0; i < length; i++) s += String.fromCharCode(randInt(rand, 256));
    assert.equal(decode(encode(s)), s);
  }
});

Deno.test("huffman: empty input decodes to empty string", () => {
  assert.equal(decode(new Uint8Array(0)), "");
});

Deno.test("huffman: EOS in the data is rejected", () => {
  // 30 ones (EOS) followed by two padding ones.
  assert.throws(() => decode(hex("ffff ffff")), HpackError);
  // "a" (00011) then EOS.
  assert.throws(() => decode(hex("1fff ffff ff")), HpackError);
});

Deno.test("huffman: padding must be all ones and shorter than 8 bits", () => {
  // "0" is 00000; 3 bits of padding that are zeros.
  assert.throws(() => decode(hex("00")), HpackError);
  // "0" then "111" padding is valid; then a whole 0xff byte of padding is not.
  assert.equal(decode(hex("07")), "0");
  assert.throws(() => decode(hex("07ff")), HpackError);
  // "0" then padding 110.
  assert.throws(() => decode(hex("06")), HpackError);
});
