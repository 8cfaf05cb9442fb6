/**
 * The web cases' answer check: the body-bytes bound, and clients/check_web.mjs
 * on Node against a real local HTTP/1.1 server that answers right, with a
 * gRPC-Web error (a 200), or with the wrong greeting.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CASES, WEB_NAME } from "./_cases.ts";
import { verifyBodyBytes } from "./_web_check.ts";
import { BENCH_DIR } from "./_setup.ts";

const grpcWebH1 = CASES.find((c) => c.name === "grpc-web-unary-h1")!;
const jsonH1 = CASES.find((c) => c.name === "connect-json-unary-h1")!;

Deno.test("verifyBodyBytes() allows one answer per call in flight at the stop, no more, no less", () => {
  const slack = grpcWebH1.connections * grpcWebH1.streams;
  assert.match(verifyBodyBytes(grpcWebH1, 1000, 46_000, 46), /46 × calls/);
  verifyBodyBytes(grpcWebH1, 1000, (1000 + slack) * 46, 46);
  assert.throws(
    () => verifyBodyBytes(grpcWebH1, 1000, 46_000 - 1, 46),
    /received 45999 body bytes/,
  );
  assert.throws(() => verifyBodyBytes(grpcWebH1, 1000, (1000 + slack) * 46 + 1, 46));
});

function frame(flags: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);
const reply = (message: string) => Uint8Array.of(0x0a, message.length, ...text(message));

/** The answers the local server gives, by the request's path. */
const ANSWERS: Record<string, () => Response> = {
  "/grpc-web/ok": () =>
    new Response(
      new Uint8Array([
        ...frame(0, reply(`Hello, ${WEB_NAME}!`)),
        ...frame(0x80, text("grpc-status: 0\r\n")),
      ]),
      { headers: { "content-type": "application/grpc-web+proto" } },
    ),
  "/grpc-web/error": () =>
    new Response(
      frame(0x80, text("grpc-status: 13\r\ngrpc-message: boom\r\n")),
      { headers: { "content-type": "application/grpc-web+proto" } },
    ),
  "/grpc-web/bad-status": () =>
    new Response(
      new Uint8Array([
        ...frame(0, reply(`Hello, ${WEB_NAME}!`)),
        ...frame(0x80, text("grpc-status: 13\r\n")),
      ]),
      { headers: { "content-type": "application/grpc-web+proto" } },
    ),
  "/json/ok": () => Response.json({ message: `Hello, ${WEB_NAME}!` }),
  "/json/wrong": () => Response.json({ message: "Hello, someone else!" }),
};

async function checkWeb(port: number, protocol: string, path: string, body: string) {
  const args = [
    join(BENCH_DIR, "clients", "check_web.mjs"),
    String(port),
    "1.1",
    protocol,
    path,
    body,
    WEB_NAME,
    JSON.stringify(protocol === "grpc-web" ? grpcWebH1.headers : jsonH1.headers),
  ];
  const child = new Deno.Command("node", { args, stdout: "piped", stderr: "piped" }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    const out = await child.output();
    return { code: out.code, said: new TextDecoder().decode(out.stdout).trim() };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("check_web.mjs passes the right answers and fails an error or a wrong greeting", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svc-bench-web-check-" });
  const seen: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      seen.push(`${path} ${request.headers.get("content-type")} ${(await request.bytes()).length}`);
      return ANSWERS[path]();
    },
  );
  try {
    const grpcBody = join(dir, "grpc-web.bin");
    const jsonBody = join(dir, "json.bin");
    await Deno.writeFile(grpcBody, grpcWebH1.body!);
    await Deno.writeFile(jsonBody, jsonH1.body!);
    const { port } = server.addr;
    assert.deepEqual(await checkWeb(port, "grpc-web", "/grpc-web/ok", grpcBody), {
      code: 0,
      said: "ok 46",
    });
    assert.deepEqual(await checkWeb(port, "connect-json", "/json/ok", jsonBody), {
      code: 0,
      said: "ok 32",
    });
    const error = await checkWeb(port, "grpc-web", "/grpc-web/error", grpcBody);
    assert.equal(error.code, 1);
    assert.match(error.said, /^failed: grpc-web over HTTP\/1\.1: first frame is not HelloReply/);
    const badStatus = await checkWeb(port, "grpc-web", "/grpc-web/bad-status", grpcBody);
    assert.equal(badStatus.code, 1);
    assert.match(badStatus.said, /grpc-status 13$/);
    const wrong = await checkWeb(port, "connect-json", "/json/wrong", jsonBody);
    assert.equal(wrong.code, 1);
    assert.match(wrong.said, /^failed: connect-json over HTTP\/1\.1: reply .*someone else/);
    // The client sent the case's own request: its content type and body.
    assert.equal(seen[0], "/grpc-web/ok application/grpc-web+proto 17");
    assert.equal(seen[1], "/json/ok application/json 21");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
