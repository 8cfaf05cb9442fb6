/**
 * createBodyDecoder(): Content-Length counting and strict, bounded chunked decoding.
 * @module
 */
import assert from "node:assert/strict";
import { createBodyDecoder } from "./body_decoder.ts";
import { Http1ProtocolError } from "./errors.ts";
import { latin1 } from "./_testing.ts";

/** Decodes `wire` fed `step` bytes at a time; returns the body and the bytes left over. */
function decodeChunked(wire: string, step: number, max = 1000) {
  const decoder = createBodyDecoder({ kind: "chunked" }, max, 100, 2);
  let body = "";
  let offset = 0;
  const bytes = latin1(wire);
  while (!decoder.done && offset < bytes.length) {
    const piece = bytes.subarray(offset, Math.min(offset + step, bytes.length));
    const used = decoder.decode(piece, (data) => body += String.fromCharCode(...data));
    offset += used;
    if (used < piece.length && !decoder.done) throw new Error("stopped early");
  }
  return { body, done: decoder.done, rest: wire.slice(offset) };
}

function statusOf(wire: string, max = 1000): number | null {
  try {
    decodeChunked(wire, 7, max);
    return null;
  } catch (error) {
    assert.ok(error instanceof Http1ProtocolError, String(error));
    return error.status;
  }
}

Deno.test("createBodyDecoder() decodes chunked bodies split anywhere and stops at their end", () => {
  const wire = "3;a=b\r\nabc\r\n000A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT";
  for (const step of [1, 2, 3, 5, 64]) {
    assert.deepEqual(decodeChunked(wire, step), {
      body: "abc0123456789",
      done: true,
      rest: "NEXT",
    });
  }
});

Deno.test("createBodyDecoder() refuses malformed or oversized chunked bodies", () => {
  assert.equal(statusOf("x\r\n"), 400);
  assert.equal(statusOf(" 3\r\nabc\r\n0\r\n\r\n"), 400);
  assert.equal(statusOf("3\r\nabcX\r\n"), 400);
  assert.equal(statusOf("3\nabc\r\n"), 400);
  assert.equal(statusOf("1000000000000\r\n"), 400);
  assert.equal(statusOf("3e9\r\n", 1000), 413);
  assert.equal(statusOf("1;" + "e".repeat(1100) + "\r\na\r\n"), 400);
  assert.equal(statusOf("1;\x01\r\na\r\n"), 400);
  assert.equal(statusOf("0\r\nbad trailer\r\n\r\n"), 400);
  assert.equal(statusOf("0\r\na: 1\r\nb: 1\r\nc: 1\r\n\r\n"), 431);
  assert.equal(statusOf("0\r\nx: " + "t".repeat(200) + "\r\n\r\n"), 431);
  // Many small extensions add up past MAX_CHUNK_EXTENSION_BYTES.
  assert.equal(statusOf(`1;${"e".repeat(1000)}\r\na\r\n`.repeat(20) + "0\r\n\r\n", 1e6), 400);
});

Deno.test("createBodyDecoder() counts a Content-Length body and leaves what follows", () => {
  const decoder = createBodyDecoder({ kind: "length", length: 4 }, 10, 100, 2);
  let body = "";
  const sink = (data: Uint8Array) => body += String.fromCharCode(...data);
  assert.equal(decoder.decode(latin1("ab"), sink), 2);
  assert.equal(decoder.done, false);
  assert.equal(decoder.decode(latin1("cdGET"), sink), 2);
  assert.equal(decoder.done, true);
  assert.equal(body, "abcd");
});
