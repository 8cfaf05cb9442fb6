/**
 * ResponseWriter: framing of responses, bodiless statuses and header injection.
 * @module
 */
import assert from "node:assert/strict";
import { type ResponseTarget, ResponseWriter } from "./response_writer.ts";

function target(method = "GET", httpVersion: "1.0" | "1.1" = "1.1", keepAlive = true) {
  const sent: string[] = [];
  const t: ResponseTarget = {
    method,
    httpVersion,
    keepAlive: () => keepAlive,
    send(bytes) {
      sent.push(new TextDecoder().decode(bytes));
      return Promise.resolve();
    },
  };
  return { t, wire: () => sent.join("") };
}

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("ResponseWriter streams chunked without content-length and drops connection fields", async () => {
  const { t, wire } = target();
  const writer = new ResponseWriter(t);
  writer.writeHead(200, [["X-A", "1"], ["Transfer-Encoding", "gzip"], ["Connection", "upgrade"]]);
  await writer.write(bytes("hello"));
  await writer.write(new Uint8Array(0));
  await writer.end();
  assert.equal(
    wire(),
    "HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  );
  assert.equal(await writer.finished, true);
});

Deno.test("ResponseWriter honours content-length, and a short body makes the connection unusable", async () => {
  const { t, wire } = target();
  const writer = new ResponseWriter(t);
  writer.writeHead(200, [["content-length", "5"]]);
  await writer.write(bytes("abc"));
  await assert.rejects(writer.write(bytes("def")), /more than content-length/);
  await writer.end();
  assert.equal(wire(), "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nabc");
  assert.equal(await writer.finished, false);
});

Deno.test("ResponseWriter sends no body for HEAD and 204, and closes for HTTP/1.0 without length", async () => {
  const head = target("HEAD");
  const forHead = new ResponseWriter(head.t);
  await forHead.write(bytes("ignored"));
  await forHead.end();
  assert.equal(head.wire(), "HTTP/1.1 200 OK\r\n\r\n");
  const old = target("GET", "1.0");
  const forOld = new ResponseWriter(old.t);
  await forOld.write(bytes("x"));
  await forOld.end();
  assert.equal(old.wire(), "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nx");
  assert.equal(await forOld.finished, false);
  const empty = target();
  const noContent = new ResponseWriter(empty.t);
  noContent.writeHead(204, [["content-length", "0"]]);
  await noContent.end();
  assert.equal(empty.wire(), "HTTP/1.1 204 No Content\r\n\r\n");
});

Deno.test("ResponseWriter refuses header injection and a second head", () => {
  const writer = new ResponseWriter(target().t);
  assert.throws(() => writer.writeHead(200, [["x", "a\r\nSet-Cookie: evil"]]), /invalid value/);
  assert.throws(() => writer.writeHead(200, [["x y", "a"]]), /invalid name/);
  assert.throws(() => writer.writeHead(101, []), /200-599/);
  writer.writeHead(200, []);
  assert.throws(() => writer.writeHead(200, []), /twice/);
});
