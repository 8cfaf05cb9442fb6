/**
 * End-to-end: the web protocols on HTTP/2 streams share the connection with
 * gRPC and obey the same bounds. One cleartext HTTP/2 connection (node:http2,
 * prior knowledge) carries gRPC and Connect streams side by side; a web body
 * over the limit is 413 and the connection serves on; a client that resets a
 * web stream ends the call on the server; and SIGTERM lets in-flight web
 * calls on HTTP/2 and HTTP/1.1 finish while an idle HTTP/1.1 keep-alive
 * connection is closed, within the configured grace period. Runs against
 * the fixture service web.Probe (tests/fixtures/web).
 * @module
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { startSvc } from "./_harness.ts";
import { WEB_ENV } from "./_connect.ts";

const CONFIG = "tests/fixtures/web/svc.yaml";
const TIMEOUT_MS = 10_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Uint8Array;
}

/** One request on `session`, bounded; resolves with everything the server sent. */
function request(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    const chunks: Uint8Array[] = [];
    const answer: Answer = { status: 0, headers: {}, trailers: {}, body: new Uint8Array() };
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      reject(new Error(`${path}: no answer in ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    stream.on("response", (h) => {
      answer.headers = h;
      answer.status = Number(h[":status"]);
    });
    stream.on("trailers", (t) => answer.trailers = t);
    stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    stream.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    stream.on("close", () => {
      clearTimeout(timer);
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const out = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) out.set(c, (at += c.length) - c.length);
      answer.body = out;
      resolve(answer);
    });
    stream.end(body);
  });
}

/** A gRPC message: the 5-byte prefix and the protobuf bytes. */
function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** EchoRequest{message} in protobuf: field 1, length-delimited (short strings only). */
function echoRequest(message: string): Uint8Array {
  const text = encoder.encode(message);
  return new Uint8Array([0x0a, text.length, ...text]);
}

const CONNECT_JSON = { "content-type": "application/json", "connect-protocol-version": "1" };

function connectSession(port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {}); // each request reports its own failure
  return session;
}

Deno.test("web protocols over HTTP/2: one connection, gRPC and web streams, bounded", async (t) => {
  await using svc = await startSvc({
    config: CONFIG,
    // A small message limit, so "over the limit" is a small body.
    env: { ...WEB_ENV, SVC_SERVER_MAX_RECEIVE_MESSAGE_BYTES: "4096" },
  });
  const session = connectSession(svc.port);
  try {
    await t.step("gRPC and Connect streams share one HTTP/2 connection", async () => {
      const [grpc, connect] = await Promise.all([
        request(session, "/web.Probe/Echo", {
          "content-type": "application/grpc",
          te: "trailers",
        }, grpcFrame(echoRequest("via grpc"))),
        request(session, "/web.Probe/Echo", CONNECT_JSON, encoder.encode('{"message":"via web"}')),
      ]);
      assert.equal(grpc.status, 200);
      assert.equal(grpc.trailers["grpc-status"], "0");
      assert.match(decoder.decode(grpc.body), /via grpc/);
      assert.equal(connect.status, 200);
      assert.equal(JSON.parse(decoder.decode(connect.body)).message, "via web");
    });

    await t.step("a web body over the limit is 413, and the connection serves on", async () => {
      const big = encoder.encode(JSON.stringify({ message: "x".repeat(64 * 1024) }));
      const refused = await request(session, "/web.Probe/Echo", CONNECT_JSON, big);
      assert.equal(refused.status, 413, decoder.decode(refused.body).slice(0, 200));
      const next = await request(session, "/web.Probe/Echo", CONNECT_JSON, encoder.encode("{}"));
      assert.equal(next.status, 200);
    });

    await t.step("a message over the limit in a smaller body is resource_exhausted", async () => {
      const body = encoder.encode(JSON.stringify({ message: "x".repeat(4200) }));
      const refused = await request(session, "/web.Probe/Echo", CONNECT_JSON, body);
      assert.equal(refused.status, 429, decoder.decode(refused.body).slice(0, 200));
      assert.equal(JSON.parse(decoder.decode(refused.body)).code, "resource_exhausted");
    });

    await t.step("a client that resets a web stream ends the call on the server", async () => {
      const stream = session.request({
        ":method": "POST",
        ":path": "/web.Probe/Sleep",
        ...CONNECT_JSON,
      });
      stream.on("error", () => {});
      stream.end(encoder.encode('{"ms":20000}'));
      // Time for the request to arrive and the handler to start sleeping.
      await new Promise((r) => setTimeout(r, 300));
      const reset = Date.now();
      stream.close(http2.constants.NGHTTP2_CANCEL);
      const line = await svc.waitForLog(
        (l) => l.msg === "call" && l.method === "/web.Probe/Sleep",
        5_000,
      );
      assert.equal(line.code, "Canceled", JSON.stringify(line));
      // The handler itself saw its signal abort: the server, not only the client, gave up.
      await svc.waitForLog((l) => l.msg === "probe sleep aborted", 2_000);
      assert.ok(Date.now() - reset < 5_000, "ended long before the handler's 20 s");
      const next = await request(session, "/web.Probe/Echo", CONNECT_JSON, encoder.encode("{}"));
      assert.equal(next.status, 200, "the connection still serves");
    });
  } finally {
    session.close();
  }
});

Deno.test("web protocols: SIGTERM finishes in-flight web calls on HTTP/2 and HTTP/1.1", async () => {
  await using svc = await startSvc({ config: CONFIG, env: WEB_ENV });
  const session = connectSession(svc.port);
  // An idle HTTP/1.1 keep-alive connection, after one answered request.
  const idle = await Deno.connect({ hostname: "127.0.0.1", port: svc.port });
  try {
    const body = '{"message":"idle"}';
    await idle.write(encoder.encode(
      "POST /web.Probe/Echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
        `content-length: ${body.length}\r\n\r\n${body}`,
    ));
    const first = new Uint8Array(4096);
    const n = await idle.read(first);
    assert.match(decoder.decode(first.subarray(0, n ?? 0)), /^HTTP\/1\.1 200/);

    const sleepBody = encoder.encode('{"ms":1500}');
    const overH2 = request(session, "/web.Probe/Sleep", CONNECT_JSON, sleepBody);
    const overH1 = fetch(`http://127.0.0.1:${svc.port}/web.Probe/Sleep`, {
      method: "POST",
      headers: CONNECT_JSON,
      body: sleepBody,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));
    // Both handlers are running before the signal.
    await new Promise((r) => setTimeout(r, 400));
    const signalled = Date.now();
    svc.kill("SIGTERM");

    // The idle connection is closed by the server: its read ends.
    const closed = await Promise.race([
      idle.read(new Uint8Array(64)).then((r) => r === null ? "eof" : "data", () => "eof"),
      new Promise((r) => setTimeout(() => r("still open"), 5_000)),
    ]);
    assert.equal(closed, "eof", "the idle keep-alive connection is closed on SIGTERM");

    const [h2, h1] = await Promise.all([overH2, overH1]);
    assert.equal(h2.status, 200);
    assert.equal(JSON.parse(decoder.decode(h2.body)).message, "slept 1500");
    assert.equal(h1.status, 200, h1.body);
    assert.equal(JSON.parse(h1.body).message, "slept 1500");
    const status = await svc.exited;
    assert.equal(status.code, 0);
    // The fixture's grace period is 3 s: both calls end well within it.
    assert.ok(Date.now() - signalled < 3_000 + 2_000, `exited ${Date.now() - signalled} ms after`);
  } finally {
    session.destroy();
    try {
      idle.close();
    } catch {
      // Closed already.
    }
  }
});
