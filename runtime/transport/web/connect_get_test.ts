import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Status } from "../../core/errors.ts";
import { type ConnectGetRequest, decodeConnectGetQuery } from "./connect_get.ts";

function decoded(query: string, max = 1024): ConnectGetRequest {
  const result = decodeConnectGetQuery(query, max);
  assert.ok("codec" in result, `${query}: ${JSON.stringify(result)}`);
  return result;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("decodeConnectGetQuery() reads the spec's examples, parameters in any order", () => {
  const a = decoded("message=%7B%22name%22%3A%22Buf%22%7D&encoding=json&connect=v1");
  assert.equal(text(a.message), '{"name":"Buf"}');
  assert.deepEqual([a.codec, a.compression, a.connectVersion], ["json", "identity", "v1"]);
  const b = decoded("encoding=json&message=%7B%22name%22%3A%22Buf%22%7D&utm_source=x");
  assert.equal(text(b.message), '{"name":"Buf"}');
  assert.equal(b.connectVersion, undefined);
});

Deno.test("decodeConnectGetQuery() decodes URL-safe base64, padded or not", () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0x00, 0x10, 0x20]);
  const unpadded = Buffer.from(bytes).toString("base64url");
  const got = decoded(`encoding=proto&base64=1&compression=gzip&message=${unpadded}`);
  assert.deepEqual([...got.message], [...bytes]);
  assert.equal(got.compression, "gzip");
  const padded = Buffer.from(bytes).toString("base64url") + "%3D";
  assert.deepEqual([...decoded(`encoding=proto&base64=1&message=${padded}`).message], [...bytes]);
});

Deno.test("decodeConnectGetQuery() ignores base64 values other than 1, and reads + as a space", () => {
  assert.equal(text(decoded("encoding=json&base64=true&message=a+b%2B").message), "a b+");
});

Deno.test("decodeConnectGetQuery() answers a missing message with an empty one", () => {
  assert.equal(decoded("encoding=proto").message.length, 0);
});

Deno.test("decodeConnectGetQuery() refuses bad encodings, escapes, UTF-8 and base64", () => {
  const cases = [
    "message=x",
    "encoding=xml&message=x",
    "encoding=json&message=%E0%A4%A",
    "encoding=json&message=%FF",
    "encoding=proto&base64=1&message=ab*d",
    "encoding=proto&base64=1&message=a",
  ];
  for (const query of cases) {
    const result = decodeConnectGetQuery(query, 1024);
    assert.ok("code" in result && result.code === Status.INVALID_ARGUMENT, query);
  }
});

Deno.test("decodeConnectGetQuery() enforces the size limit before and after decoding", () => {
  const huge = "A".repeat(4000);
  const early = decodeConnectGetQuery(`encoding=proto&base64=1&message=${huge}`, 100);
  assert.deepEqual(early, {
    code: Status.RESOURCE_EXHAUSTED,
    message: "Received message larger than max (at least 2995 vs 100)",
  });
  // 30 escapes decode to 10 bytes: under the limit though the raw text is not.
  assert.equal(decoded(`encoding=json&message=${"%41".repeat(10)}`, 10).message.length, 10);
  // 29 chars may hold 10 bytes, so they are decoded, to 11.
  const late = decodeConnectGetQuery(`encoding=json&message=${"%41".repeat(9)}AB`, 10);
  assert.deepEqual(late, {
    code: Status.RESOURCE_EXHAUSTED,
    message: "Received message larger than max (11 vs 10)",
  });
});
