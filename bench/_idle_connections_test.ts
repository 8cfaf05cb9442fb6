import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { CASES } from "./_cases.ts";
import { hpackLiterals, measureIdleConnections } from "./_idle_connections.ts";

const idleCase = CASES.find((c) => c.driver === "idle-connections")!;

Deno.test("hpackLiterals() writes literal fields without indexing, no Huffman", () => {
  assert.deepEqual([...hpackLiterals([["te", "trailers"]])], [
    0x00,
    2,
    ...new TextEncoder().encode("te"),
    8,
    ...new TextEncoder().encode("trailers"),
  ]);
});

Deno.test("the idle connections make one call each on a real HTTP/2 server and stay open", async () => {
  // A real HTTP/2 stack (libnghttp2 behind node:http2) judges the frames and
  // HPACK; it answers as a gRPC server does: headers, the body, trailers.
  const seen: string[] = [];
  let open = 0;
  const server = http2.createServer();
  server.on("connection", (socket) => {
    open++;
    socket.on("close", () => open--);
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    seen.push(`${headers[":method"]} ${headers[":path"]} ${headers["content-type"]}`);
    stream.on("data", () => {});
    stream.on("end", () => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, {
        waitForTrailers: true,
      });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Uint8Array.of(0, 0, 0, 0, 0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const sample = await measureIdleConnections({ ...idleCase, connections: 60 }, Deno.pid, port);
    assert.equal(sample.connections, 60);
    assert.equal(seen.length, 60);
    assert.equal(seen[0], "POST /bench.Echo/Say application/grpc");
    assert.ok(sample.rssHeld > 0 && sample.rssBefore > 0);
    assert.ok(Number.isFinite(sample.kibPerConnection));
    // Closed by the bench once measured.
    const until = Date.now() + 5_000;
    while (open > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(open, 0);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
