/**
 * gRPC-Web and Connect over HTTP/1.1 on the native transport, over real
 * sockets: a transport with `server.web.enabled` on port 0, a fake
 * pipeline, and `fetch` (HTTP/1.1 for http: URLs) as the client.
 * @module
 */
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { connect } from "node:net";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { Status } from "../../core/errors.ts";
import { Metadata } from "../../core/metadata.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { createLogger } from "../../log/logger.ts";
import { binaryToJson, jsonToBinary } from "../../protos/json_codec.ts";
import { createNativeTransport } from "../native/server.ts";
import type { Route, Transport, TransportCall } from "../types.ts";

const root = protobuf.parse(`syntax = "proto3"; package t; message Msg { string text = 1; }`)
  .root;
const MSG = root.lookupType("t.Msg");
const json = () =>
  Promise.resolve({
    requestToBinary: (text: string) => jsonToBinary(MSG, text),
    responseToJson: (bytes: Uint8Array) => binaryToJson(MSG, bytes),
  });

const ROUTES: Route[] = [
  { path: "/t.Echo/Say", kind: "unary", noSideEffects: true, json },
  { path: "/t.Echo/Count", kind: "server_stream", json },
  { path: "/t.Echo/Fail", kind: "unary", json },
  { path: "/t.Echo/Chat", kind: "bidi_stream", json },
];

const msg = (text: string) => MSG.encode({ text }).finish();
const textOf = (bytes: Uint8Array) => (MSG.decode(bytes) as unknown as { text: string }).text;

/** The fake pipeline: Say echoes with a trailer, Count streams two, Fail fails. */
function pipeline(call: TransportCall): void {
  const request = call.request ?? new Uint8Array(0);
  if (call.route.path === "/t.Echo/Say") {
    call.end(
      { code: Status.OK, message: "", trailers: Metadata.from({ "x-cost": "7" }) },
      msg(`hi ${textOf(request)} ${call.metadata.get("x-user") ?? ""}`.trim()),
    );
  } else if (call.route.path === "/t.Echo/Count") {
    call.write(msg("one"));
    call.write(msg("two"));
    call.end({ code: Status.OK, message: "", trailers: null });
  } else {
    call.end({ code: Status.NOT_FOUND, message: "no such thing", trailers: null });
  }
}

async function withServer(
  web: boolean,
  test: (base: string, port: number) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const config = resolveConfig("", `${Deno.cwd()}/svc.yaml`, {
    SVC_SERVER_HOST: "127.0.0.1",
    SVC_SERVER_PORT: "0",
    SVC_SERVER_WEB_ENABLED: String(web),
    ...env,
  });
  const transport: Transport = createNativeTransport(
    config.server,
    createLogger({ level: "error" }),
  );
  const { port } = await transport.listen(ROUTES, pipeline);
  try {
    await test(`http://127.0.0.1:${port}`, port);
  } finally {
    await transport.close();
  }
}

function envelope(flags: number, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

/** Splits an enveloped body into [flags, data] pairs. */
function envelopes(body: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  for (let at = 0; at < body.length;) {
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    out.push([body[at], body.subarray(at + 5, at + 5 + length)]);
    at += 5 + length;
  }
  return out;
}

Deno.test("createWebHandler() serves Connect unary JSON with trailer- headers", async () => {
  await withServer(true, async (base) => {
    const response = await fetch(`${base}/t.Echo/Say`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-user": "ada" },
      body: '{"text":"there"}',
    });
    assert.deepEqual(response.status, 200);
    assert.deepEqual(response.headers.get("trailer-x-cost"), "7");
    assert.deepEqual(await response.json(), { text: "hi there ada" });
  });
});

Deno.test("createWebHandler() answers a Connect GET for a NO_SIDE_EFFECTS method", async () => {
  await withServer(true, async (base) => {
    const message = encodeURIComponent('{"text":"get"}');
    const ok = await fetch(`${base}/t.Echo/Say?encoding=json&message=${message}`);
    assert.deepEqual(await ok.json(), { text: "hi get" });
    const refused = await fetch(`${base}/t.Echo/Fail?encoding=json&message=${message}`);
    assert.deepEqual(refused.status, 405);
    await refused.body?.cancel();
  });
});

Deno.test("createWebHandler() refuses bad JSON, naming the field, with 400", async () => {
  await withServer(true, async (base) => {
    const response = await fetch(`${base}/t.Echo/Say`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"text":42}',
    });
    assert.deepEqual(response.status, 400);
    const error = await response.json();
    assert.deepEqual(error.code, "invalid_argument");
    assert.ok(error.message.includes("text:"), error.message);
  });
});

Deno.test("createWebHandler() answers unknown paths 404 unimplemented and errors by the table", async () => {
  await withServer(true, async (base) => {
    const post = (path: string, type = "application/json") =>
      fetch(`${base}${path}`, { method: "POST", headers: { "content-type": type }, body: "{}" });
    const unknown = await post("/t.Echo/Nope");
    assert.deepEqual(unknown.status, 404);
    assert.deepEqual((await unknown.json()).code, "unimplemented");
    const failed = await post("/t.Echo/Fail");
    assert.deepEqual(failed.status, 404);
    assert.deepEqual(await failed.json(), { code: "not_found", message: "no such thing" });
    const media = await post("/t.Echo/Say", "text/plain");
    assert.deepEqual(media.status, 415);
    await media.body?.cancel();
  });
});

Deno.test("createWebHandler() streams gRPC-Web messages, then the trailers frame", async () => {
  await withServer(true, async (base) => {
    const response = await fetch(`${base}/t.Echo/Count`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: envelope(0, msg("x")),
    });
    assert.deepEqual(response.headers.get("content-type"), "application/grpc-web+proto");
    const frames = envelopes(new Uint8Array(await response.arrayBuffer()));
    assert.deepEqual(frames.map(([flags]) => flags), [0, 0, 0x80]);
    assert.deepEqual(frames.slice(0, 2).map(([, data]) => textOf(data)), ["one", "two"]);
    assert.deepEqual(new TextDecoder().decode(frames[2][1]), "grpc-status: 0\r\n");
  });
});

Deno.test("createWebHandler() ends Connect streams with EndStream and refuses bidi", async () => {
  await withServer(true, async (base) => {
    const post = (path: string) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/connect+json" },
        body: envelope(0, new TextEncoder().encode('{"text":"x"}')),
      });
    const frames = envelopes(new Uint8Array(await (await post("/t.Echo/Count")).arrayBuffer()));
    const decoded = frames.map(([flags, data]) => [flags, new TextDecoder().decode(data)]);
    assert.deepEqual(decoded, [[0, '{"text":"one"}'], [0, '{"text":"two"}'], [2, "{}"]]);
    const bidi = envelopes(new Uint8Array(await (await post("/t.Echo/Chat")).arrayBuffer()));
    assert.deepEqual(bidi.length, 1);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(bidi[0][1])).error.code, "unimplemented");
  });
});

Deno.test("native transport with web off does not answer HTTP/1.1", async () => {
  await withServer(false, async (_base, port) => {
    const socket = connect(port, "127.0.0.1");
    const received: Uint8Array[] = [];
    socket.on("data", (chunk: Uint8Array) => received.push(chunk));
    socket.write("POST /t.Echo/Say HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n");
    await new Promise((resolve) => socket.on("close", resolve));
    const text = new TextDecoder().decode(new Uint8Array(received.flatMap((c) => [...c])));
    assert.deepEqual(text.startsWith("HTTP/1.1"), false);
  });
});

Deno.test("native transport with web on still serves gRPC over h2c on the same port", async () => {
  await withServer(true, async (_base, port) => {
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<Uint8Array>((resolve, reject) =>
        client.makeUnaryRequest(
          "/t.Echo/Say",
          (bytes: Uint8Array) => Buffer.from(bytes),
          (bytes: Buffer) => new Uint8Array(bytes),
          msg("h2"),
          { deadline: Date.now() + 5000 },
          (error, value) => error ? reject(error) : resolve(value!),
        )
      );
      assert.equal(textOf(reply), "hi h2");
    } finally {
      client.close();
    }
  });
});

Deno.test("native transport with web on closes a silent connection at the preface timeout", async () => {
  await withServer(true, async (_base, port) => {
    const started = performance.now();
    const socket = connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.on("close", resolve));
    const elapsed = performance.now() - started;
    // prefaceTimeout 200 ms, checked on the transport's 250 ms tick.
    assert.ok(elapsed >= 150 && elapsed < 2000, `closed after ${elapsed} ms`);
  }, { SVC_SERVER_HTTP2_PREFACE_TIMEOUT: "200ms" });
});
