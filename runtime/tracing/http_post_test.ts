import assert from "node:assert/strict";
import { HttpPoster } from "./http_post.ts";

/**
 * A raw HTTP/1.1 server on a free port answering each request with the
 * next of `answers` (whole byte strings), counting connections and bodies.
 */
function server(answers: string[], silent = false) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stats = {
    connections: 0,
    bodies: [] as number[],
    heads: [] as string[],
    payloads: [] as string[],
  };
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      stats.connections++;
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(1 << 16);
        let text = "";
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) return;
          text += new TextDecoder("latin1").decode(buf.subarray(0, n));
          for (;;) {
            const end = text.indexOf("\r\n\r\n");
            if (end < 0) break;
            const head = text.slice(0, end);
            const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
            if (text.length < end + 4 + length) break;
            stats.heads.push(head);
            stats.bodies.push(length);
            stats.payloads.push(text.slice(end + 4, end + 4 + length));
            text = text.slice(end + 4 + length);
            if (silent) continue;
            const answer = answers.shift() ?? "HTTP/1.1 500 Out\r\ncontent-length: 0\r\n\r\n";
            await conn.write(new TextEncoder().encode(answer));
            if (/connection: close|^HTTP\/1\.0/i.test(answer)) return conn.close();
          }
        }
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    stats,
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/v1/traces?x=1`,
    [Symbol.asyncDispose]: () => {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
      return Promise.resolve();
    },
  };
}

const signal = () => AbortSignal.timeout(5000);

Deno.test("HttpPoster: one kept connection for content-length and chunked answers", async () => {
  await using s = server([
    "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: 1\r\n\r\n",
    "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy",
  ]);
  const poster = new HttpPoster(s.url, { "x-api-key": "k" });
  const body = new Uint8Array(200_000).fill(7);
  assert.deepEqual(await poster.post(body, signal()), { status: 200, statusText: "OK" });
  assert.equal((await poster.post(new Uint8Array(10), signal())).status, 200);
  assert.deepEqual(await poster.post(new Uint8Array(1), signal()), {
    status: 503,
    statusText: "Service Unavailable",
  });
  poster.close();
  assert.equal(s.stats.connections, 1);
  assert.deepEqual(s.stats.bodies, [200_000, 10, 1]);
  assert.match(s.stats.heads[0], /^POST \/v1\/traces\?x=1 HTTP\/1\.1\r\n/);
  assert.match(s.stats.heads[0], /\r\nx-api-key: k\r\n/);
});

Deno.test("HttpPoster: a collector that closes after each answer gets a new connection", async () => {
  await using s = server([
    "HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
    "HTTP/1.1 200 OK\r\n\r\n", // no length: the body ends with the connection
  ]);
  const poster = new HttpPoster(s.url, {});
  for (let i = 0; i < 3; i++) {
    assert.equal((await poster.post(new Uint8Array(5), signal())).status, 200);
  }
  poster.close();
  assert.equal(s.stats.connections, 3);
});

Deno.test("HttpPoster: nothing listening, garbage and an abort reject", async () => {
  await using s = server(["SMTP ready\r\n\r\n"]);
  const poster = new HttpPoster(s.url, {});
  await assert.rejects(poster.post(new Uint8Array(1), signal()), /not an HTTP answer/);
  const dead = new HttpPoster("http://127.0.0.1:1/v1/traces", {});
  await assert.rejects(dead.post(new Uint8Array(1), signal()));
  // A collector that never answers: the abort ends the wait.
  await using silent = server([], true);
  const slow = new HttpPoster(silent.url, {});
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("gave up")), 100);
  await assert.rejects(slow.post(new Uint8Array(1), controller.signal), /gave up/);
  slow.close();
});

Deno.test("HttpPoster: a body with room before it goes out with its head in front, intact", async () => {
  await using s = server(["HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"]);
  const poster = new HttpPoster(s.url, { "content-type": "application/x-protobuf" });
  const room = poster.headroom;
  const buffer = new Uint8Array(room + 100 + 5_000).fill(0x2e);
  const body = buffer.subarray(room + 100);
  body.fill(0x61);
  const answer = await poster.post(body, signal(), room + 100);
  assert.equal(answer.status, 200);
  assert.deepEqual(s.stats.payloads, ["a".repeat(5_000)]);
  assert.match(s.stats.heads[0], /^POST \/v1\/traces\?x=1 HTTP\/1\.1\r\n/);
  assert.match(s.stats.heads[0], /\r\ncontent-length: 5000$/);
  // The head went right before the body; what lies before it is untouched.
  const headStart = body.byteOffset - (s.stats.heads[0].length + 4);
  assert.ok(buffer.subarray(0, headStart).every((b) => b === 0x2e));
  poster.close();
});
