import assert from "node:assert/strict";
import { Status } from "../../core/errors.ts";
import {
  encodeEnvelope,
  type Envelope,
  type EnvelopeError,
  EnvelopeParser,
  FLAG_END_STREAM,
  FLAG_TRAILERS,
} from "./envelope.ts";

function drain(parser: EnvelopeParser): (Envelope | EnvelopeError)[] {
  const out: (Envelope | EnvelopeError)[] = [];
  for (let m = parser.next(); m !== null; m = parser.next()) {
    out.push(m);
    if ("error" in m) break;
  }
  return out;
}

/** A seeded generator, so a failing chunking can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

Deno.test("encodeEnvelope() writes the Connect spec's end-stream example: flags 2, length 2, {}", () => {
  const frame = encodeEnvelope(FLAG_END_STREAM, new TextEncoder().encode("{}"));
  assert.deepEqual([...frame], [2, 0, 0, 0, 2, 0x7b, 0x7d]);
});

Deno.test("encodeEnvelope() writes lengths big-endian", () => {
  const frame = encodeEnvelope(0x80, new Uint8Array(0x010203));
  assert.deepEqual([...frame.subarray(0, 5)], [0x80, 0x00, 0x01, 0x02, 0x03]);
});

Deno.test("EnvelopeParser round-trips messages under random chunkings", () => {
  const next = random(7);
  for (let round = 0; round < 200; round++) {
    const messages: Envelope[] = [];
    const count = Math.floor(next() * 6);
    for (let i = 0; i < count; i++) {
      const data = new Uint8Array(Math.floor(next() * 40));
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(next() * 256);
      messages.push({ flags: next() < 0.3 ? FLAG_END_STREAM : 0, data });
    }
    const body = new Uint8Array(messages.reduce((n, m) => n + 5 + m.data.length, 0));
    let at = 0;
    for (const m of messages) {
      body.set(encodeEnvelope(m.flags, m.data), at);
      at += 5 + m.data.length;
    }
    const parser = new EnvelopeParser({ maxMessageBytes: 64 });
    const got: (Envelope | EnvelopeError)[] = [];
    for (let p = 0; p < body.length;) {
      const size = 1 + Math.floor(next() * 12);
      parser.push(body.subarray(p, p + size));
      p += size;
      got.push(...drain(parser));
    }
    assert.equal(parser.end(), null);
    assert.deepEqual(
      got.map((m) => "flags" in m ? { flags: m.flags, data: [...m.data] } : m),
      messages.map((m) => ({ flags: m.flags, data: [...m.data] })),
      `round ${round}`,
    );
  }
});

Deno.test("EnvelopeParser rejects a too-large length from the prefix alone, before the body", () => {
  const parser = new EnvelopeParser({ maxMessageBytes: 10 });
  parser.push(new Uint8Array([0, 0xff, 0xff, 0xff, 0xff]));
  const result = parser.next();
  assert.ok(result !== null && "error" in result);
  assert.equal(result.error, "too-large");
  assert.equal(result.code, Status.RESOURCE_EXHAUSTED);
  assert.equal(result.message, "Received message larger than max (4294967295 vs 10)");
  // Sticky: later bytes are not held.
  parser.push(new Uint8Array(1000));
  assert.equal(parser.partial, false);
  assert.equal(parser.next(), result);
});

Deno.test("EnvelopeParser accepts a message of exactly the maximum size", () => {
  const parser = new EnvelopeParser({ maxMessageBytes: 3 });
  parser.push(encodeEnvelope(0, new Uint8Array([1, 2, 3])));
  const result = parser.next();
  assert.ok(result !== null && "data" in result);
  assert.deepEqual([...result.data], [1, 2, 3]);
});

Deno.test("EnvelopeParser rejects flags the protocol does not allow", () => {
  const parser = new EnvelopeParser({ maxMessageBytes: 10, allowedFlags: 0x01 });
  parser.push(encodeEnvelope(FLAG_TRAILERS, new Uint8Array(0)));
  const result = parser.next();
  assert.ok(result !== null && "error" in result);
  assert.equal(result.error, "bad-flags");
});

Deno.test("EnvelopeParser.end() reports a body that stops inside a prefix or a message", () => {
  const inPrefix = new EnvelopeParser({ maxMessageBytes: 10 });
  inPrefix.push(new Uint8Array([0, 0]));
  assert.equal(inPrefix.next(), null);
  assert.equal(inPrefix.end()?.error, "truncated");

  const inBody = new EnvelopeParser({ maxMessageBytes: 10 });
  inBody.push(new Uint8Array([0, 0, 0, 0, 4, 1, 2]));
  assert.equal(inBody.next(), null);
  assert.equal(inBody.end()?.error, "truncated");
});

Deno.test("EnvelopeParser yields an empty message for a zero length", () => {
  const parser = new EnvelopeParser({ maxMessageBytes: 10 });
  parser.push(new Uint8Array([0, 0, 0, 0, 0]));
  const result = parser.next();
  assert.ok(result !== null && "data" in result);
  assert.equal(result.data.length, 0);
  assert.equal(parser.end(), null);
});
