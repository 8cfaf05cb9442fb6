/**
 * parseHead() and scanHead(): RFC 9112 request heads, strict where smuggling feeds on leniency.
 * @module
 */
import assert from "node:assert/strict";
import { Http1ProtocolError } from "./errors.ts";
import { newHeadScan, parseHead, scanHead } from "./head_parser.ts";
import { latin1 } from "./_testing.ts";

function statusOf(fn: () => unknown): number | null {
  try {
    fn();
    return null;
  } catch (error) {
    assert.ok(error instanceof Http1ProtocolError, String(error));
    return error.status;
  }
}

Deno.test("scanHead() finds the end of a head delivered a byte at a time", () => {
  const text = "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
  const scan = newHeadScan();
  let end = -1;
  for (let length = 1; length <= text.length && end < 0; length++) {
    end = scanHead(latin1(text.slice(0, length)), scan, 8192, 10);
  }
  assert.equal(end, text.indexOf("rest"));
});

Deno.test("scanHead() refuses bare LF and CR, and too many or too large fields", () => {
  const scan = (text: string, maxBytes = 8192, maxCount = 3) =>
    statusOf(() => scanHead(latin1(text), newHeadScan(), maxBytes, maxCount));
  assert.equal(scan("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400);
  assert.equal(scan("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), 400);
  assert.equal(scan("GET / HTTP/1.1\r\na: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\n"), 431);
  assert.equal(scan("GET / HTTP/1.1\r\nx: " + "a".repeat(100), 64), 431);
  assert.equal(scan("GET / HTTP/1.1\r\nx: " + "a".repeat(100) + "\r\n\r\n", 64), 431);
  assert.equal(scan("GET / HTTP/1.1\r\na: 1\r\nb: 1\r\nc: 1\r\n\r\n"), null);
});

Deno.test("parseHead() splits the target, lower-cases names and keeps repeats", () => {
  const head = parseHead(latin1(
    "POST http://x.test/a/b?c=d&e HTTP/1.0\r\nX-A: 1\r\nx-a:  2 \r\nEmpty:\r\n\r\n",
  ));
  assert.equal(head.method, "POST");
  assert.equal(head.path, "/a/b");
  assert.equal(head.query, "c=d&e");
  assert.equal(head.httpVersion, "1.0");
  assert.deepEqual(head.headers.getAll("X-A"), ["1", "2"]);
  assert.equal(head.headers.get("x-a"), "1, 2");
  assert.equal(head.headers.get("empty"), "");
  assert.equal(parseHead(latin1("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")).path, "*");
});

Deno.test("parseHead() refuses malformed request lines and fields", () => {
  const parse = (text: string) => statusOf(() => parseHead(latin1(text)));
  for (
    const bad of [
      "GET /\r\n\r\n",
      "GET / HTTP/1.1 x\r\n\r\n",
      "get\x7f / HTTP/1.1\r\n\r\n",
      "GET /\x01 HTTP/1.1\r\n\r\n",
      "GET * HTTP/1.1\r\n\r\n",
      "GET /#f HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nX : y\r\n\r\n",
      "GET / HTTP/1.1\r\nX: y\r\n z\r\n\r\n",
      "GET / HTTP/1.1\r\nnocolon\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n",
      "GET / HTTP/1.x\r\n\r\n",
    ]
  ) assert.equal(parse(bad), 400, JSON.stringify(bad));
  assert.equal(parse("GET / HTTP/3.0\r\n\r\n"), 505);
});
