/**
 * requestFraming(): Content-Length and Transfer-Encoding rules, Host, Expect and keep-alive.
 * @module
 */
import assert from "node:assert/strict";
import { Http1ProtocolError } from "./errors.ts";
import { requestFraming } from "./framing.ts";
import { parseHead } from "./head_parser.ts";
import { latin1 } from "./_testing.ts";

const framing = (head: string, max = 1000) =>
  requestFraming(parseHead(latin1(`${head}\r\n\r\n`)), max);

function statusOf(head: string): number | null {
  try {
    framing(head);
    return null;
  } catch (error) {
    assert.ok(error instanceof Http1ProtocolError);
    return error.status;
  }
}

Deno.test("requestFraming() reads Content-Length, chunked and keep-alive", () => {
  assert.deepEqual(framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007").body, {
    kind: "length",
    length: 7,
  });
  assert.deepEqual(framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0").body, {
    kind: "none",
  });
  assert.deepEqual(framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked").body, {
    kind: "chunked",
  });
  assert.equal(framing("GET / HTTP/1.1\r\nHost: a").keepAlive, true);
  assert.equal(framing("GET / HTTP/1.1\r\nHost: a\r\nConnection: x, Close").keepAlive, false);
  assert.equal(framing("GET / HTTP/1.0").keepAlive, false);
  assert.equal(framing("GET / HTTP/1.0\r\nConnection: keep-alive").keepAlive, true);
  assert.equal(
    framing("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: 100-Continue")
      .expectContinue,
    true,
  );
  assert.equal(framing("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue").expectContinue, false);
});

Deno.test("requestFraming() refuses ambiguous framing, missing Host and large bodies", () => {
  assert.equal(statusOf("GET / HTTP/1.1"), 400);
  assert.equal(statusOf("GET / HTTP/1.1\r\nHost: a\r\nHost: a"), 400);
  assert.equal(
    statusOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked"),
    400,
  );
  assert.equal(statusOf("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip"), 400);
  assert.equal(statusOf("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked"), 501);
  assert.equal(statusOf("POST / HTTP/1.0\r\nTransfer-Encoding: chunked"), 400);
  assert.equal(
    statusOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1"),
    400,
  );
  assert.equal(statusOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3"), 400);
  assert.equal(statusOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001"), 413);
  assert.equal(statusOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999"), 413);
  assert.equal(statusOf("POST / HTTP/1.1\r\nHost: a\r\nExpect: nothing"), 417);
});
