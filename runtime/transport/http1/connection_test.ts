/**
 * Http1Connection over real loopback sockets, serving well-behaved clients:
 * bodies by Content-Length and chunked, keep-alive, pipelining, HEAD,
 * 100-continue, HTTP/1.0, idle timeout and drain.
 * @module
 */
import assert from "node:assert/strict";
import { delay, parseResponses, RawClient, startServer, TEST_LIMITS } from "./_testing.ts";

const complete = (count: number) => (text: string) => parseResponses(text).length >= count;

Deno.test("Http1Connection answers a GET and keeps the connection for a POST", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send("GET /a/b?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
  await client.until(complete(1));
  await client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  const [get, post] = parseResponses(await client.until(complete(2)));
  assert.equal(get.status, 200);
  assert.equal(get.headers.get("x-path"), "/a/b");
  assert.equal(get.headers.get("connection"), undefined);
  assert.equal(post.body, "hello");
  assert.equal(post.headers.get("x-method"), "POST");
  assert.equal(client.isClosed, false);
  assert.equal(server.connections.size, 1);
});

Deno.test("Http1Connection decodes a chunked body sent in pieces, and streams a chunked answer", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send(
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r",
  );
  await delay(20);
  await client.send("\nhel");
  await delay(20);
  await client.send("lo\r\n1\r\n!\r\n0\r\nx-trailer: yes\r\n\r\n");
  await client.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  const [echo, stream] = parseResponses(await client.until(complete(2)));
  assert.equal(echo.body, "hello!");
  assert.equal(stream.headers.get("transfer-encoding"), "chunked");
  assert.equal(stream.body, "onetwothree");
});

Deno.test("Http1Connection answers pipelined requests one at a time, in order", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  let burst = "";
  for (let i = 0; i < 20; i++) {
    burst += `POST /p${i} HTTP/1.1\r\nHost: t\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`;
  }
  await client.send(burst);
  const responses = parseResponses(await client.until(complete(20)));
  assert.deepEqual(responses.map((r) => r.body), [...Array(20).keys()].map(String));
  assert.deepEqual(
    responses.map((r) => r.headers.get("x-path")),
    [...Array(20).keys()].map((i) => `/p${i}`),
  );
});

Deno.test("Http1Connection sends no body for HEAD or 204 and stays in sync", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send("HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  const head = await client.until((text) => text.includes("\r\n\r\n"));
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(!head.includes("transfer-encoding"), "HEAD answer has no framing of its own");
  await delay(50);
  assert.ok(head.endsWith("\r\n\r\n") && client.text === head, "no body after the HEAD answer");
  await client.send("POST /ignore HTTP/1.1\r\nHost: t\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n");
  const text = await client.until((t) => (t.match(/HTTP\/1\.1/g) ?? []).length >= 3);
  const rest = parseResponses(text.slice(head.length));
  assert.deepEqual(rest.map((r) => r.status), [204, 200]);
});

Deno.test("Http1Connection closes when the client asks, and for HTTP/1.0 without keep-alive", async () => {
  await using server = await startServer();
  for (
    const request of [
      "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
    ]
  ) {
    await using client = await RawClient.connect(server.port);
    await client.send(request);
    assert.ok(await client.closedWithin(1000), "closed after the answer");
    const [response] = parseResponses(client.text);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("connection"), "close");
  }
  await using kept = await RawClient.connect(server.port);
  await kept.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const [response] = parseResponses(await kept.until(complete(1)));
  assert.equal(response.headers.get("connection"), "keep-alive");
  assert.equal(await kept.closedWithin(200), false);
});

Deno.test("Http1Connection sends 100 Continue when the handler reads, and not when it answers first", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send(
    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
  );
  await client.until((text) => text.includes("\r\n\r\n"));
  assert.equal(client.text, "HTTP/1.1 100 Continue\r\n\r\n");
  await client.send("ok");
  const [response] = parseResponses(await client.until(complete(1)));
  assert.equal(response.body, "ok");

  await using second = await RawClient.connect(server.port);
  await second.send(
    "PUT /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n",
  );
  assert.ok(await second.closedWithin(2000));
  assert.match(second.text, /^HTTP\/1\.1 204 No Content\r\n/);
  assert.match(second.text, /connection: close/, "the unread body makes the connection unusable");

  await using third = await RawClient.connect(server.port);
  await third.send("PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\nExpect: teapot\r\n\r\n");
  assert.ok(await third.closedWithin(2000));
  assert.match(third.text, /^HTTP\/1\.1 417 /);
});

Deno.test("Http1Connection closes a kept-alive connection idle for keepAliveIdleMs", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  await client.until(complete(1));
  const answered = performance.now();
  assert.ok(await client.closedWithin(TEST_LIMITS.keepAliveIdleMs + 500));
  const waited = performance.now() - answered;
  assert.ok(waited >= TEST_LIMITS.keepAliveIdleMs - 60, `closed after ${waited} ms`);
  assert.equal(client.text.length, parseResponses(client.text).length && client.text.length);
});

Deno.test("Http1Connection.drain() closes idle connections at once and lets a response in flight finish", async () => {
  await using server = await startServer();
  await using idle = await RawClient.connect(server.port);
  await using busy = await RawClient.connect(server.port);
  await idle.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  await idle.until(complete(1));
  await busy.send("POST /wait HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
  await server.waitStarted;
  const connections = [...server.connections];
  assert.equal(connections.length, 2);
  assert.deepEqual(connections.map((c) => c.idle).sort(), [false, true]);
  for (const connection of connections) connection.drain();
  assert.ok(await idle.closedWithin(100), "the idle connection closed at once");
  assert.equal(busy.isClosed, false);
  server.release();
  assert.ok(await busy.closedWithin(1000));
  const [response] = parseResponses(busy.text);
  assert.equal(response.body, "abc");
  assert.equal(response.headers.get("connection"), "close");
});

Deno.test("Http1Connection honours maxRequestsPerConnection", async () => {
  await using server = await startServer({ ...TEST_LIMITS, maxRequestsPerConnection: 2 });
  await using client = await RawClient.connect(server.port);
  await client.send(
    "GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\n\r\n",
  );
  assert.ok(await client.closedWithin(2000));
  const responses = parseResponses(client.text);
  assert.deepEqual(responses.map((r) => r.headers.get("x-path")), ["/1", "/2"]);
  assert.equal(responses[1].headers.get("connection"), "close");
});
