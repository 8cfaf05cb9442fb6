/**
 * End-to-end: gzip both ways on gRPC-Web and Connect (issue 15), on a real
 * svc with `server.web.enabled`. Real @connectrpc/connect-node clients send
 * gzip requests and accept gzip responses on every web protocol; raw
 * HTTP/1.1 requests (node:http, which leaves bodies as they came) prove the
 * responses really were compressed, byte for byte: `content-encoding`,
 * `grpc-encoding`, `connect-content-encoding`, the 0x01 flag, and trailers
 * never compressed. Also: a zip bomb is RESOURCE_EXHAUSTED and the server
 * serves on, an unknown encoding is UNIMPLEMENTED with the accept list, a
 * Connect GET with `compression=gzip`, and the 405 `allow` header.
 *
 * The interop service (examples/interop) is the compression workload: its
 * UnaryCall checks `expect_compressed` with `ctx.requestCompressed` and
 * `response_compressed` turns on `ctx.compressResponses`, so the handler
 * control is exercised too. web.Probe (tests/fixtures/web) has the
 * NO_SIDE_EFFECTS method Connect GET needs.
 * @module
 */
import assert from "node:assert/strict";
import { Agent, request as httpRequest } from "node:http";
import { gunzipSync, gzipSync } from "node:zlib";
import { ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { create, type DescService, type FileRegistry, toBinary } from "@bufbuild/protobuf";
import { relative } from "node:path";
import { ROOT, startSvc } from "./_harness.ts";
import { loadRegistry, WEB_ENV, WEB_PROTOCOLS, webClients, type WebProtocol } from "./_connect.ts";

const PROTO_DIR = Deno.env.get("GRPC_PROTO_DIR") ?? "/usr/share/grpc-proto";
const INTEROP_READY = await Deno.stat(`${PROTO_DIR}/grpc/testing/test.proto`).then(
  () => true,
  () => false,
);
if (!INTEROP_READY) console.warn(`web_compression_test.ts: interop cases skipped: no ${PROTO_DIR}`);
const INTEROP_ENV = { ...WEB_ENV, GRPC_PROTO_DIR: PROTO_DIR, SVC_ADMIN_ENABLED: "false" };
const TEST_SERVICE = "/grpc.testing.TestService";
const MiB = 1 << 20;

// ------------------------------------------------------------------ raw HTTP/1.1

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** One HTTP/1.1 exchange on its own connection, body as sent; bounded by `timeoutMs`. */
function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
  timeoutMs = 15_000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      method,
      path,
      agent: false,
      headers: { connection: "close", ...headers },
    }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      res.on("error", fail);
      res.on("end", () => {
        clearTimeout(timer);
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
        }
        resolve({ status: res.statusCode ?? 0, headers: out, body: concat(chunks) });
      });
    });
    const timer = setTimeout(() => fail(new Error(`${method} ${path}: no answer`)), timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      req.destroy();
      reject(error);
    }
    req.on("error", fail);
    req.end(body);
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** One enveloped message: flags, 4-byte big-endian length, data. */
function envelope(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

/** The envelopes of a response body, in order. */
function envelopes(body: Uint8Array): { flags: number; data: Uint8Array }[] {
  const out = [];
  for (let at = 0; at < body.length;) {
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    out.push({ flags: body[at], data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** gzip of `n` zero bytes: a few KiB that inflate far past the 4 MiB receive limit. */
const bomb = (n: number) => new Uint8Array(gzipSync(new Uint8Array(n)));

// ------------------------------------------------------------------ clients

/** connect-node transports that send gzip (every message: compressMinBytes 0) and accept it. */
function gzipTransports(port: number, agent: Agent): Record<WebProtocol, Transport> {
  const common = {
    baseUrl: `http://127.0.0.1:${port}`,
    httpVersion: "1.1" as const,
    nodeOptions: { agent },
    sendCompression: compressionGzip,
    acceptCompression: [compressionGzip],
    compressMinBytes: 0,
  };
  return {
    "grpc-web": createGrpcWebTransport({ ...common, useBinaryFormat: true }),
    "connect-binary": createConnectTransport({ ...common, useBinaryFormat: true }),
    "connect-json": createConnectTransport({ ...common, useBinaryFormat: false }),
  };
}

function encode(registry: FileRegistry, type: string, init: Record<string, unknown>): Uint8Array {
  const schema = registry.getMessage(type);
  if (!schema) throw new Error(`no ${type}`);
  // deno-lint-ignore no-explicit-any
  return toBinary(schema, create(schema, init as any));
}

async function interopRegistry(): Promise<{ registry: FileRegistry; service: DescService }> {
  // loadRegistry() takes paths under the repository: reach the system protos relatively.
  const dir = relative(ROOT, PROTO_DIR);
  const registry = await loadRegistry(`${dir}/grpc/testing/test.proto`, dir);
  return { registry, service: registry.getService("grpc.testing.TestService")! };
}

// ------------------------------------------------------------------ tests

Deno.test({
  name: "web compression: connect-node clients send and receive gzip on every web protocol",
  ignore: !INTEROP_READY,
  async fn(t) {
    const { service } = await interopRegistry();
    await using svc = await startSvc({ config: "examples/interop/svc.yaml", env: INTEROP_ENV });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    // Sends identity: the control for `expect_compressed`.
    await using plainClients = webClients(svc.port);
    try {
      const transports = gzipTransports(svc.port, agent);
      for (const protocol of WEB_PROTOCOLS) {
        // deno-lint-ignore no-explicit-any
        const client: any = createClient(service, transports[protocol]);
        await t.step(`${protocol}: unary, gzip request and gzip response`, async () => {
          const reply = await client.unaryCall({
            responseSize: 4096,
            payload: { body: new Uint8Array(2048) },
            // The handler fails the call unless ctx.requestCompressed says the request was gzip.
            expectCompressed: { value: true },
            responseCompressed: { value: true },
          }, { timeoutMs: 15_000 });
          assert.equal(reply.payload.body.length, 4096);
        });
        await t.step(
          `${protocol}: the control: an identity request fails expect_compressed`,
          async () => {
            // deno-lint-ignore no-explicit-any
            const plain: any = plainClients.client(protocol, service);
            const error = await plain.unaryCall({ expectCompressed: { value: true } }, {
              timeoutMs: 15_000,
            }).then(() => null, (e: unknown) => ConnectError.from(e));
            assert.equal(error?.code, 3, "INVALID_ARGUMENT: not compressed");
          },
        );
        await t.step(`${protocol}: server streaming, gzip request and responses`, async () => {
          const sizes: number[] = [];
          for await (
            const reply of client.streamingOutputCall({
              responseParameters: [
                { size: 3000, compressed: { value: true } },
                { size: 5 },
                { size: 2000, compressed: { value: false } },
              ],
              payload: { body: new Uint8Array(1500) },
            }, { timeoutMs: 15_000 })
          ) sizes.push(reply.payload.body.length);
          assert.deepEqual(sizes, [3000, 5, 2000]);
        });
      }
    } finally {
      agent.destroy();
    }
  },
});

Deno.test({
  name: "web compression: responses are really gzip on the wire, trailers never",
  ignore: !INTEROP_READY,
  async fn(t) {
    const { registry } = await interopRegistry();
    await using svc = await startSvc({ config: "examples/interop/svc.yaml", env: INTEROP_ENV });
    const unary = encode(registry, "grpc.testing.SimpleRequest", {
      responseSize: 50_000,
      responseCompressed: { value: true },
    });
    const stream = encode(registry, "grpc.testing.StreamingOutputCallRequest", {
      responseParameters: [{ size: 40_000, compressed: { value: true } }, { size: 3 }],
    });

    await t.step("Connect unary: content-encoding gzip, the body a gzip of the reply", async () => {
      const r = await raw(svc.port, "POST", `${TEST_SERVICE}/UnaryCall`, {
        "content-type": "application/proto",
        "accept-encoding": "gzip, deflate, br",
      }, unary);
      assert.equal(r.status, 200, text(r.body));
      assert.equal(r.headers["content-encoding"], "gzip");
      assert.ok(r.body.length < 2000, `50 kB of zeros compressed to ${r.body.length} bytes`);
      assert.ok(gunzipSync(r.body).length > 50_000);
    });

    await t.step("Connect unary: the control: no accept-encoding, no compression", async () => {
      const r = await raw(svc.port, "POST", `${TEST_SERVICE}/UnaryCall`, {
        "content-type": "application/proto",
      }, unary);
      assert.equal(r.status, 200, text(r.body));
      assert.equal(r.headers["content-encoding"], undefined);
      assert.ok(r.body.length > 50_000);
    });

    await t.step("gRPC-Web: grpc-encoding gzip, message flagged 0x01, trailers 0x80", async () => {
      const r = await raw(svc.port, "POST", `${TEST_SERVICE}/StreamingOutputCall`, {
        "content-type": "application/grpc-web+proto",
        "grpc-accept-encoding": "identity,gzip",
      }, envelope(0, stream));
      assert.equal(r.status, 200);
      assert.equal(r.headers["grpc-encoding"], "gzip");
      const frames = envelopes(r.body);
      assert.deepEqual(frames.map((f) => f.flags), [0x01, 0x00, 0x80]);
      assert.ok(frames[0].data.length < 2000);
      assert.ok(gunzipSync(frames[0].data).length > 40_000);
      assert.match(text(frames[2].data), /grpc-status: ?0/);
    });

    await t.step("gRPC-Web text: the same inside base64", async () => {
      const body = new TextEncoder().encode(btoa(String.fromCharCode(...envelope(0, stream))));
      const r = await raw(svc.port, "POST", `${TEST_SERVICE}/StreamingOutputCall`, {
        "content-type": "application/grpc-web-text",
        "grpc-accept-encoding": "gzip",
      }, body);
      assert.equal(r.status, 200);
      assert.equal(r.headers["grpc-encoding"], "gzip");
      // Each frame is its own base64 run (padding may end one): decode them one by one.
      const decoded = concat(
        (text(r.body).match(/[A-Za-z0-9+/]+={0,2}/g) ?? []).map((run) =>
          Uint8Array.from(atob(run), (c) => c.charCodeAt(0))
        ),
      );
      assert.deepEqual(envelopes(decoded).map((f) => f.flags), [0x01, 0x00, 0x80]);
    });

    await t.step("Connect streaming: connect-content-encoding gzip, EndStream 0x02", async () => {
      const r = await raw(svc.port, "POST", `${TEST_SERVICE}/StreamingOutputCall`, {
        "content-type": "application/connect+proto",
        "connect-accept-encoding": "gzip",
      }, envelope(0, stream));
      assert.equal(r.status, 200);
      assert.equal(r.headers["connect-content-encoding"], "gzip");
      const frames = envelopes(r.body);
      assert.deepEqual(frames.map((f) => f.flags), [0x01, 0x00, 0x02]);
      assert.ok(gunzipSync(frames[0].data).length > 40_000);
      assert.deepEqual(JSON.parse(text(frames[2].data)), {});
    });

    await t.step("gzip requests as raw bytes: Connect body, gRPC-Web flag 0x01", async () => {
      const small = encode(registry, "grpc.testing.SimpleRequest", {
        responseSize: 10,
        expectCompressed: { value: true },
      });
      const connect = await raw(svc.port, "POST", `${TEST_SERVICE}/UnaryCall`, {
        "content-type": "application/proto",
        "content-encoding": "gzip",
      }, new Uint8Array(gzipSync(small)));
      assert.equal(connect.status, 200, text(connect.body));
      const web = await raw(svc.port, "POST", `${TEST_SERVICE}/UnaryCall`, {
        "content-type": "application/grpc-web+proto",
        "grpc-encoding": "gzip",
      }, envelope(1, new Uint8Array(gzipSync(small))));
      assert.match(text(envelopes(web.body).at(-1)!.data), /grpc-status: ?0/);
    });
  },
});

Deno.test("web compression: bombs, unknown encodings, Connect GET and 405 on web.Probe", async (t) => {
  const registry = await loadRegistry(
    "tests/fixtures/web/proto/web.proto",
    "tests/fixtures/web/proto",
  );
  await using svc = await startSvc({ config: "tests/fixtures/web/svc.yaml", env: WEB_ENV });
  const echo = `/web.Probe/Echo`;
  const small = encode(registry, "web.EchoRequest", { message: "hello" });
  // 64 MiB of zeros: 64 KiB on the wire, sixteen times the default 4 MiB receive limit.
  const zipBomb = bomb(64 * MiB);
  assert.ok(zipBomb.length < 100_000);

  const stillServing = async () => {
    const r = await raw(
      svc.port,
      "POST",
      echo,
      { "content-type": "application/json" },
      new TextEncoder().encode('{"message":"alive"}'),
    );
    assert.equal(r.status, 200, text(r.body));
    assert.equal(JSON.parse(text(r.body)).message, "alive");
  };

  await t.step("a Connect unary zip bomb is resource_exhausted (429)", async () => {
    const r = await raw(svc.port, "POST", echo, {
      "content-type": "application/proto",
      "content-encoding": "gzip",
    }, zipBomb);
    assert.equal(r.status, 429, text(r.body));
    assert.equal(JSON.parse(text(r.body)).code, "resource_exhausted");
    await stillServing();
  });

  await t.step("a gRPC-Web zip bomb is RESOURCE_EXHAUSTED (8)", async () => {
    const r = await raw(svc.port, "POST", echo, {
      "content-type": "application/grpc-web+proto",
      "grpc-encoding": "gzip",
    }, envelope(1, zipBomb));
    assert.equal(r.status, 200);
    const trailers = text(envelopes(r.body).at(-1)!.data);
    assert.match(trailers, /grpc-status: ?8/);
    await stillServing();
  });

  await t.step("a Connect streaming zip bomb ends with resource_exhausted", async () => {
    const count = encode(registry, "web.CountRequest", { count: 1 });
    const r = await raw(svc.port, "POST", "/web.Probe/Count", {
      "content-type": "application/connect+proto",
      "connect-content-encoding": "gzip",
    }, concat([envelope(1, zipBomb), envelope(0, count)]));
    const end = envelopes(r.body).at(-1)!;
    assert.equal(end.flags, 0x02);
    assert.equal(JSON.parse(text(end.data)).error.code, "resource_exhausted");
    await stillServing();
  });

  await t.step("a flag 0x01 without grpc-encoding is INTERNAL, as gRPC says", async () => {
    const r = await raw(svc.port, "POST", echo, {
      "content-type": "application/grpc-web+proto",
    }, envelope(1, new Uint8Array(gzipSync(small))));
    assert.match(text(envelopes(r.body).at(-1)!.data), /grpc-status: ?13/);
  });

  await t.step("unknown encodings are unimplemented, listing what is accepted", async () => {
    const connect = await raw(svc.port, "POST", echo, {
      "content-type": "application/proto",
      "content-encoding": "br",
    }, small);
    assert.equal(connect.status, 501, text(connect.body));
    assert.equal(JSON.parse(text(connect.body)).code, "unimplemented");
    assert.match(connect.headers["accept-encoding"] ?? "", /gzip/);

    const web = await raw(svc.port, "POST", echo, {
      "content-type": "application/grpc-web+proto",
      "grpc-encoding": "snappy",
    }, envelope(1, small));
    assert.match(text(envelopes(web.body).at(-1)!.data), /grpc-status: ?12/);
    assert.match(web.headers["grpc-accept-encoding"] ?? "", /gzip/);

    const stream = await raw(svc.port, "POST", "/web.Probe/Count", {
      "content-type": "application/connect+proto",
      "connect-content-encoding": "zstd",
    }, envelope(1, small));
    const end = envelopes(stream.body).at(-1)!;
    assert.equal(JSON.parse(text(end.data)).error.code, "unimplemented");
    assert.match(stream.headers["connect-accept-encoding"] ?? "", /gzip/);
  });

  await t.step("a Connect GET with compression=gzip", async () => {
    const json = new TextEncoder().encode('{"message":"got by gzip GET"}');
    const message = btoa(String.fromCharCode(...gzipSync(json)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const query = `encoding=json&base64=1&compression=gzip&connect=v1&message=${message}`;
    const r = await raw(svc.port, "GET", `${echo}?${query}`);
    assert.equal(r.status, 200, text(r.body));
    assert.equal(JSON.parse(text(r.body)).message, "got by gzip GET");
    // Cacheable, and its encoding would follow Accept-Encoding: caches must key on it.
    assert.equal(r.headers["vary"], "accept-encoding");

    const bad = await raw(svc.port, "GET", `${echo}?encoding=json&compression=br&message=x`);
    assert.equal(bad.status, 501, text(bad.body));
    assert.equal(JSON.parse(text(bad.body)).code, "unimplemented");
  });

  await t.step("405 lists what the path allows", async () => {
    const fail = await raw(svc.port, "GET", "/web.Probe/Fail?encoding=json&message=%7B%7D");
    assert.equal(fail.status, 405);
    assert.equal(fail.headers["allow"], "POST");
    // The method is judged before the query: no encoding parameter is still 405, not 415.
    const bare = await raw(svc.port, "GET", "/web.Probe/Fail");
    assert.equal(bare.status, 405);
    assert.equal(bare.headers["allow"], "POST");
    const put = await raw(svc.port, "PUT", echo, { "content-type": "application/json" }, small);
    assert.equal(put.status, 405);
    assert.equal(put.headers["allow"], "GET, POST");
    const stream = await raw(svc.port, "DELETE", "/web.Probe/Count");
    assert.equal(stream.status, 405);
    assert.equal(stream.headers["allow"], "POST");
    // A path nothing serves has no methods to allow.
    const unknown = await raw(svc.port, "PUT", "/web.Probe/Nothing");
    assert.equal(unknown.status, 404);
  });

  await t.step("tiny responses go uncompressed even when gzip is accepted", async () => {
    const r = await raw(svc.port, "POST", echo, {
      "content-type": "application/proto",
      "accept-encoding": "gzip",
    }, small);
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-encoding"], undefined);
  });
});

Deno.test({
  name: "web compression: server.compression gzip compresses without the handler asking",
}, async (t) => {
  await using svc = await startSvc({
    config: "tests/fixtures/web/svc.yaml",
    env: { ...WEB_ENV, SVC_SERVER_COMPRESSION: "gzip" },
  });
  const body = new TextEncoder().encode(JSON.stringify({ message: "z".repeat(20_000) }));
  await t.step("Connect JSON unary: gzip when accepted", async () => {
    const r = await raw(svc.port, "POST", "/web.Probe/Echo", {
      "content-type": "application/json",
      "accept-encoding": "gzip",
    }, body);
    assert.equal(r.status, 200, text(r.body));
    assert.equal(r.headers["content-encoding"], "gzip");
    assert.equal(JSON.parse(text(new Uint8Array(gunzipSync(r.body)))).message.length, 20_000);
  });
  await t.step("and identity when not", async () => {
    const r = await raw(svc.port, "POST", "/web.Probe/Echo", {
      "content-type": "application/json",
      "accept-encoding": "identity",
    }, body);
    assert.equal(r.headers["content-encoding"], undefined);
    assert.equal(JSON.parse(text(r.body)).message.length, 20_000);
  });
});
