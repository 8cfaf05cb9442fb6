/**
 * Http1Connection against hostile clients over real loopback sockets:
 * request smuggling, header floods, slowloris, oversized and stalled
 * bodies, and clients that ignore our pause. Each is refused with its
 * status and the connection closed, while a well-behaved client is served.
 * @module
 */
import assert from "node:assert/strict";
import { LINGER_MS } from "./connection.ts";
import {
  delay,
  parseResponses,
  RawClient,
  startServer,
  TEST_LIMITS,
  TEST_TICK_MS,
  type TestServer,
} from "./_testing.ts";

/** Bound on closing after a refusal: the linger, a tick, and scheduling slack. */
const CLOSE_BOUND_MS = LINGER_MS + TEST_TICK_MS + 500;

async function assertServed(server: TestServer): Promise<void> {
  await using client = await RawClient.connect(server.port);
  await client.send("POST /ok HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok");
  const [response] = parseResponses(await client.until((t) => parseResponses(t).length > 0));
  assert.equal(response.body, "ok");
}

async function assertRefused(server: TestServer, request: string, status: number) {
  await using client = await RawClient.connect(server.port);
  await client.send(request);
  assert.ok(await client.closedWithin(CLOSE_BOUND_MS), `closed after ${JSON.stringify(request)}`);
  const responses = parseResponses(client.text);
  assert.equal(responses.length, 1, `one answer to ${JSON.stringify(request)}: ${client.text}`);
  assert.equal(responses[0].status, status, `status for ${JSON.stringify(request)}`);
  assert.equal(responses[0].headers.get("connection"), "close");
  assert.ok(!responses[0].headers.has("x-path"), "the handler never saw it");
}

const SMUGGLING: [string, string, number][] = [
  [
    "CL and TE",
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
    400,
  ],
  [
    "TE and CL",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n0\r\n\r\n",
    400,
  ],
  ["TE identity", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n", 400],
  [
    "TE chunked, identity",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
    400,
  ],
  [
    "TE chunked twice",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    501,
  ],
  [
    "TE with odd spelling",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n",
    400,
  ],
  [
    "TE with space before colon",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n",
    400,
  ],
  ["TE folded", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 400],
  [
    "duplicate CL",
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    400,
  ],
  [
    "differing CL",
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
    400,
  ],
  ["CL list", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\n\r\nabc", 400],
  ["signed CL", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\nabc", 400],
  ["TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
  [
    "CL and TE in HTTP/1.0",
    "POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
  ],
  [
    "chunk size overflow",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n",
    400,
  ],
  [
    "negative chunk size",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n",
    400,
  ],
  [
    "chunk size with 0x",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n",
    400,
  ],
  [
    "chunk data longer than its size",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
    400,
  ],
  [
    "chunk line with bare LF",
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
    400,
  ],
  [
    "huge chunk extension",
    `POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;${
      "x".repeat(2000)
    }\r\na\r\n0\r\n\r\n`,
    400,
  ],
  ["bare LF in head", "GET / HTTP/1.1\nHost: t\n\n", 400],
  ["bare CR in head", "GET / HTTP/1.1\rHost: t\r\n\r\n", 400],
  ["no Host in 1.1", "GET / HTTP/1.1\r\n\r\n", 400],
  ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
  ["bad method", "G(T / HTTP/1.1\r\nHost: t\r\n\r\n", 400],
  ["bad target", "GET nope HTTP/1.1\r\nHost: t\r\n\r\n", 400],
  ["CONNECT target", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 400],
  ["double space", "GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400],
  ["NUL in value", "GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n", 400],
  ["HTTP/2.0 version", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505],
];

Deno.test("Http1Connection refuses request smuggling with 400 and closes, serving others meanwhile", async () => {
  await using server = await startServer();
  await using bystander = await RawClient.connect(server.port);
  const refusals = Promise.all(
    SMUGGLING.map(([name, request, status]) =>
      assertRefused(server, request, status).catch((error) => {
        throw new Error(`${name}: ${error.message}`);
      })
    ),
  );
  let done = false;
  refusals.finally(() => done = true).catch(() => {});
  // Meanwhile a kept-alive connection is still served.
  let served = 0;
  while (!done) {
    await bystander.send(`GET /still${served} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const text = await bystander.until((t) => parseResponses(t).length > served);
    assert.equal(parseResponses(text)[served].headers.get("x-path"), `/still${served}`);
    served++;
    await delay(50);
  }
  await refusals;
  assert.ok(served > 1);
  await assertServed(server);
  assert.deepEqual(server.handlerErrors, []);
});

Deno.test("Http1Connection answers 431 to 10,000 header fields, and closes", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  let flood = "GET / HTTP/1.1\r\nHost: t\r\n";
  for (let i = 0; i < 10_000; i++) flood += `x${i}: y\r\n`;
  const started = performance.now();
  await client.send(flood + "\r\n");
  assert.ok(await client.closedWithin(CLOSE_BOUND_MS));
  assert.ok(performance.now() - started < CLOSE_BOUND_MS);
  assert.match(client.text, /^HTTP\/1\.1 431 /);
  await assertServed(server);
});

Deno.test("Http1Connection answers 431 to a header over maxHeadBytes without buffering it", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send(`GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(64 * 1024)}`);
  assert.ok(await client.closedWithin(CLOSE_BOUND_MS));
  assert.match(client.text, /^HTTP\/1\.1 431 /);
  // One megabyte in one go: refused and closed (the answer may be lost to the reset).
  await using big = await RawClient.connect(server.port);
  const megabyte = `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(1 << 20)}\r\n\r\n`;
  void big.send(megabyte);
  assert.ok(await big.closedWithin(CLOSE_BOUND_MS + 1000));
  assert.ok(big.text === "" || /^HTTP\/1\.1 431 /.test(big.text), big.text.slice(0, 40));
  assert.equal(server.connections.size, 0);
  await assertServed(server);
});

Deno.test("Http1Connection cuts off a client sending its head one byte a second", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  const request = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
  const started = performance.now();
  const sending = (async () => {
    for (let i = 0; i < request.length && !client.isClosed; i++) {
      await client.send(request[i]);
      for (let waited = 0; waited < 1000 && !client.isClosed; waited += 50) await delay(50);
    }
  })();
  await client.until((text) => text !== "", TEST_LIMITS.headTimeoutMs + 1000);
  const answeredAfter = performance.now() - started;
  assert.match(client.text, /^HTTP\/1\.1 408 /);
  assert.ok(answeredAfter >= TEST_LIMITS.headTimeoutMs - 60, `answered after ${answeredAfter} ms`);
  assert.ok(answeredAfter < TEST_LIMITS.headTimeoutMs + TEST_TICK_MS + 400, `${answeredAfter} ms`);
  assert.ok(await client.closedWithin(CLOSE_BOUND_MS), "closed after its answer");
  await sending;
});

Deno.test("Http1Connection closes a connection that never sends within headTimeoutMs", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  const started = performance.now();
  assert.ok(await client.closedWithin(TEST_LIMITS.headTimeoutMs + 500));
  assert.ok(performance.now() - started >= TEST_LIMITS.headTimeoutMs - 60);
  assert.equal(client.text, "");
});

Deno.test("Http1Connection answers 413 to a declared body over the limit without reading it", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  // Only the head is sent: the answer must not wait for the 10 MB it announces.
  await client.send(
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n",
  );
  await client.until((text) => text.includes("\r\n\r\n"), 1000);
  assert.match(client.text, /^HTTP\/1\.1 413 /, "no 100 Continue either");
  assert.ok(await client.closedWithin(CLOSE_BOUND_MS));
});

Deno.test("Http1Connection answers 413 to a chunked body once it passes the limit", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  const chunk = `8000\r\n${"z".repeat(0x8000)}\r\n`;
  for (let i = 0; i < 10 && !client.isClosed; i++) await client.send(chunk);
  assert.ok(await client.closedWithin(CLOSE_BOUND_MS));
  // 64 KiB allowed: the third chunk's size line is refused before its data is read.
  assert.match(client.text, /^HTTP\/1\.1 413 /);
});

Deno.test("Http1Connection answers 408 to a body that stalls past bodyIdleTimeoutMs", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  const started = performance.now();
  assert.ok(await client.closedWithin(TEST_LIMITS.bodyIdleTimeoutMs + CLOSE_BOUND_MS));
  assert.ok(performance.now() - started >= TEST_LIMITS.bodyIdleTimeoutMs - 60);
  assert.match(client.text, /^HTTP\/1\.1 408 /);
});

Deno.test("Http1Connection does not read ahead of a pipelining client", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send("POST /wait HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n1");
  await server.waitStarted;
  const before = server.bytesDelivered;
  // The server is busy; the client pipelines a request and then a megabyte of junk.
  void client.send("GET /next HTTP/1.1\r\nHost: t\r\n\r\n" + "X".repeat(1 << 20));
  await delay(300);
  const heldWhileBusy = server.bytesDelivered - before;
  assert.ok(heldWhileBusy < 256 * 1024, `${heldWhileBusy} bytes read while busy`);
  assert.equal(client.isClosed, false, "the pause held the rest in the kernel");
  server.release();
  assert.ok(await client.closedWithin(CLOSE_BOUND_MS + 1000));
  const responses = parseResponses(client.text);
  assert.deepEqual(responses.map((r) => r.status), [200, 200, 431]);
  assert.equal(responses[0].body, "1");
  assert.equal(responses[1].headers.get("x-path"), "/next");
});

Deno.test("Http1Connection closes a connection whose client stopped reading", async () => {
  await using server = await startServer({ ...TEST_LIMITS, writeStallTimeoutMs: 300 });
  await using client = await RawClient.connect(server.port);
  client.socket.pause();
  await client.send("GET /flood HTTP/1.1\r\nHost: t\r\n\r\n");
  const started = performance.now();
  while (server.connections.size > 0 && performance.now() - started < 5000) await delay(20);
  assert.equal(server.connections.size, 0, "the connection was closed");
  assert.ok(performance.now() - started < 300 + TEST_TICK_MS + 1500);
  assert.ok(server.handlerErrors.length <= 1, "the handler's failed write may be reported, once");
});

Deno.test("Http1Connection answers a generic 500 when the handler throws, and keeps serving", async () => {
  await using server = await startServer();
  await using client = await RawClient.connect(server.port);
  await client.send("GET /throw HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n");
  const responses = parseResponses(await client.until((t) => parseResponses(t).length > 1));
  assert.equal(responses[0].status, 500);
  assert.equal(responses[0].body, "internal error\n", "no detail leaks");
  assert.equal(responses[1].headers.get("x-path"), "/after");
  assert.equal(server.handlerErrors.length, 1);
});
