import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Base64StreamDecoder, encodeBase64Frame } from "./grpc_web_text.ts";

const ascii = (text: string) => new TextEncoder().encode(text);

/** A seeded generator, so a failing chunking can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

function decodeAll(text: string, cuts: number[]): Uint8Array {
  const decoder = new Base64StreamDecoder();
  const parts: number[] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    parts.push(...decoder.push(ascii(text.slice(from, cut))));
    from = cut;
  }
  const tail = decoder.end();
  if (typeof tail === "string") throw new Error(tail);
  parts.push(...tail);
  return new Uint8Array(parts);
}

Deno.test("encodeBase64Frame() matches standard padded base64 for every remainder", () => {
  for (let length = 0; length < 20; length++) {
    const bytes = new Uint8Array(length).map((_, i) => (i * 37 + length) & 0xff);
    assert.equal(
      new TextDecoder().decode(encodeBase64Frame(bytes)),
      Buffer.from(bytes).toString("base64"),
    );
  }
  // A gRPC-Web trailers frame with no trailers: flags 0x80, length 0.
  assert.equal(
    new TextDecoder().decode(encodeBase64Frame(new Uint8Array([0x80, 0, 0, 0, 0]))),
    "gAAAAAA=",
  );
});

Deno.test("Base64StreamDecoder decodes concatenated padded segments split at random", () => {
  const next = random(11);
  for (let round = 0; round < 300; round++) {
    const segments: Uint8Array[] = [];
    const count = 1 + Math.floor(next() * 5);
    for (let i = 0; i < count; i++) {
      segments.push(new Uint8Array(Math.floor(next() * 12)).map(() => Math.floor(next() * 256)));
    }
    // Each message encoded on its own, padded, as grpc-web clients send them.
    const text = segments.map((s) => Buffer.from(s).toString("base64")).join("");
    const cuts: number[] = [];
    for (let at = Math.floor(next() * 5); at < text.length; at += 1 + Math.floor(next() * 6)) {
      cuts.push(at);
    }
    const expected = segments.flatMap((s) => [...s]);
    assert.deepEqual([...decodeAll(text, cuts)], expected, `round ${round}: ${text} at ${cuts}`);
  }
});

Deno.test("Base64StreamDecoder accepts an unpadded final quantum, URL-safe letters and line breaks", () => {
  assert.deepEqual([...decodeAll("aGk", [])], [0x68, 0x69]);
  assert.deepEqual([...decodeAll("-_8=", [])], [0xfb, 0xff]);
  assert.deepEqual([...decodeAll("aGVs\r\nbG8=", [5])], [...ascii("hello")]);
});

Deno.test("Base64StreamDecoder rejects invalid letters and misplaced padding, and stays failed", () => {
  const decoder = new Base64StreamDecoder();
  assert.throws(() => decoder.push(ascii("ab*d")), /Invalid base64: byte 0x2a/);
  assert.throws(() => decoder.push(ascii("abcd")), /Invalid base64/);
  assert.throws(() => new Base64StreamDecoder().push(ascii("a===")), /"=" at byte 1/);
  assert.throws(() => new Base64StreamDecoder().push(ascii("ab=c")), /expected "="/);
});

Deno.test("Base64StreamDecoder.end() reports a body that stops mid-quantum or mid-padding", () => {
  const single = new Base64StreamDecoder();
  single.push(ascii("aGVsb"));
  assert.equal(single.end(), "Invalid base64: body ended inside a quantum");
  const padding = new Base64StreamDecoder();
  assert.deepEqual([...padding.push(ascii("aA="))], [0x68]);
  assert.equal(padding.end(), "Invalid base64: body ended before the padding did");
});
