import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { RpcError, Status } from "../../core/errors.ts";
import { InflateGate } from "../native/compression.ts";
import { encodeEnvelope } from "./envelope.ts";
import { classifyRequest, type RequestProtocol } from "./protocol.ts";
import { envelopedMessages, readSingleMessage } from "./web_request.ts";

const WEB = classifyRequest("POST", "application/grpc-web", "") as RequestProtocol;
const gzip = (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes));

/** A body delivered in chunks of `size` bytes, as a socket might. */
async function* body(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("envelopedMessages() inflates flagged messages and reports each one's flag", async () => {
  const a = new TextEncoder().encode("a".repeat(300));
  const b = new TextEncoder().encode("plain");
  const seen: boolean[] = [];
  const got: string[] = [];
  const wire = join(encodeEnvelope(1, gzip(a)), encodeEnvelope(0, b));
  const inflation = { encoding: "gzip" as const, onMessage: (c: boolean) => seen.push(c) };
  for await (const m of envelopedMessages(body(wire), WEB, 1024, inflation)) {
    got.push(new TextDecoder().decode(m));
  }
  assert.deepEqual(got, ["a".repeat(300), "plain"]);
  assert.deepEqual(seen, [true, false]);
});

Deno.test("envelopedMessages() refuses a flagged message without an encoding (INTERNAL)", async () => {
  const wire = encodeEnvelope(1, gzip(new Uint8Array(10)));
  await assert.rejects(
    async () => {
      for await (const _ of envelopedMessages(body(wire), WEB, 1024)) { /* drain */ }
    },
    (e: unknown) => e instanceof RpcError && e.code === Status.INTERNAL,
  );
});

Deno.test("readSingleMessage() ends a message inflating past the limit RESOURCE_EXHAUSTED", async () => {
  const wire = encodeEnvelope(1, gzip(new Uint8Array(64 << 10)));
  const result = await readSingleMessage(body(wire, 1000), WEB, 4096, "/t.S/M", {
    encoding: "gzip",
  });
  assert.ok(!(result instanceof Uint8Array));
  assert.equal(result.code, Status.RESOURCE_EXHAUSTED);
});

Deno.test("readSingleMessage() inflates through the transport's gate when given one", async () => {
  const wire = encodeEnvelope(1, gzip(new TextEncoder().encode("gated")));
  const result = await readSingleMessage(body(wire), WEB, 4096, "/t.S/M", {
    encoding: "gzip",
    gate: new InflateGate(),
  });
  assert.ok(result instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(result), "gated");
});
