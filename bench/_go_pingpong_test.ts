import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { buildGoPingpong } from "./_setup.ts";

// Built once for the file; without Go the tests say why they cannot run.
const built = await buildGoPingpong();
const ignore = "skip" in built;
if (ignore) console.error(`bench/_go_pingpong_test.ts: ${built.skip}`);

interface EchoServer {
  port: number;
  /** Messages echoed, over all calls. */
  echoed(): number;
  calls(): number;
  close(): Promise<void>;
}

/**
 * A gRPC echo over a real HTTP/2 stack (libnghttp2 behind node:http2), which
 * judges the client's frames, HPACK and flow control: every message back as
 * it arrives, then `status` in the trailers.
 */
async function echoServer(settings: http2.Settings, status = "0"): Promise<EchoServer> {
  let echoed = 0;
  let calls = 0;
  const server = http2.createServer({ settings });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
    calls++;
    assert.equal(headers[":path"], "/bench.Echo/Ping");
    assert.equal(headers["content-type"], "application/grpc");
    assert.equal(headers["x-api-key"], "bench");
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, {
      waitForTrailers: true,
    });
    // A reset stream (the client broke a rule) fails the client's run, and the test there.
    stream.on("error", () => {});
    let pending = new Uint8Array(0);
    stream.on("data", (chunk: Uint8Array) => {
      const all = new Uint8Array(pending.length + chunk.length);
      all.set(pending);
      all.set(chunk, pending.length);
      let at = 0;
      while (all.length - at >= 5) {
        const size = new DataView(all.buffer, all.byteOffset + at).getUint32(1);
        if (all.length - at < 5 + size) break;
        stream.write(all.slice(at, at + 5 + size));
        echoed++;
        at += 5 + size;
      }
      pending = all.slice(at);
    });
    stream.on("end", () => {
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": status }));
      stream.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    echoed: () => echoed,
    calls: () => calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function runClient(port: number, conns: number, streams: number, seconds = 1) {
  const { code, stdout, stderr } = await new Deno.Command(
    (built as { binary: string }).binary,
    {
      args: [port, conns, streams, seconds, 10].map(String),
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    },
  ).output();
  const text = new TextDecoder();
  const line = text.decode(stdout).trim().split("\n").pop() ?? "";
  return { code, result: JSON.parse(line || "{}"), stderr: text.decode(stderr) };
}

Deno.test({
  name: "the Go ping-pong client: every call echoes, then ends OK; counts match the server's",
  ignore,
  async fn() {
    const server = await echoServer({});
    try {
      const { code, result, stderr } = await runClient(server.port, 2, 4);
      assert.equal(code, 0, stderr + JSON.stringify(result));
      assert.deepEqual(result.failures, []);
      assert.equal(result.okCalls, 8);
      assert.equal(server.calls(), 8);
      assert.ok(result.roundTrips > 100, `${result.roundTrips} round trips`);
      assert.equal(result.roundTrips, server.echoed());
      assert.ok(result.p50us > 0 && result.p99us >= result.p50us);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "the Go ping-pong client runs for a fraction of a second (--quick's warm-up)",
  ignore,
  async fn() {
    const server = await echoServer({});
    try {
      const started = performance.now();
      const { code, result, stderr } = await runClient(server.port, 1, 2, 0.25);
      assert.equal(code, 0, stderr + JSON.stringify(result));
      assert.equal(result.okCalls, 2);
      assert.ok(performance.now() - started < 5_000);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "the Go ping-pong client refuses a bad argument on stderr, exit 2",
  ignore,
  async fn() {
    const { code, stdout, stderr } = await new Deno.Command((built as { binary: string }).binary, {
      args: ["1", "1", "1.5", "1", "10"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 2);
    assert.equal(stdout.length, 0);
    assert.match(new TextDecoder().decode(stderr), /argument 3 \("1\.5"\)/);
  },
});

Deno.test({
  name: "the Go ping-pong client keeps to a 10-byte stream window, sending each message in parts",
  ignore,
  async fn() {
    // A 17-byte message goes out as 10 bytes, then 7 once the server's
    // WINDOW_UPDATE arrives; a byte more and nghttp2 resets the stream.
    const server = await echoServer({ initialWindowSize: 10 });
    try {
      const { code, result, stderr } = await runClient(server.port, 1, 2);
      assert.equal(code, 0, stderr + JSON.stringify(result));
      assert.equal(result.okCalls, 2);
      assert.ok(result.roundTrips > 10, `${result.roundTrips} round trips`);
      assert.equal(result.roundTrips, server.echoed());
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "the Go ping-pong client fails, naming the status, when calls do not end OK",
  ignore,
  async fn() {
    const server = await echoServer({}, "13");
    try {
      const { code, result } = await runClient(server.port, 1, 2);
      assert.equal(code, 1);
      assert.equal(result.okCalls, 0);
      assert.deepEqual(result.failures, ["grpc-status 13"]);
    } finally {
      await server.close();
    }
  },
});
