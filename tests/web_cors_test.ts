/**
 * CORS end to end, on a real svc process with `server.web.enabled`: a
 * preflight from an allowed origin gets every CORS header, one from any
 * other origin gets none, `*` and credentials answer as configured, a
 * Connect JSON POST (curl) from an allowed origin gets the headers a
 * browser needs to read grpc-status and the configured exposed names,
 * gRPC over HTTP/2 on the same port is untouched, with `cors` unset no
 * CORS header is ever sent, and an origin with a path is a config error
 * (exit 2) naming the key. Deno's fetch does not enforce CORS, so it shows
 * exactly what the server sent.
 * @module
 */
import assert from "node:assert/strict";
import { grpcClient, ROOT, runSvc, startSvc, unary } from "./_harness.ts";
import { curl, WEB_ENV } from "./_connect.ts";

const APP = "http://localhost:8080";
const EVIL = "http://evil.example";
const SAY_HELLO = "/helloworld.Greeter/SayHello";

async function send(
  url: string,
  init: RequestInit,
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

function preflight(origin: string): RequestInit {
  return {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,connect-protocol-version,authorization",
    },
  };
}

function corsHeaderNames(headers: Headers): string[] {
  return [...headers.keys()].filter((name) => name.startsWith("access-control-"));
}

function list(value: string | null): string[] {
  return (value ?? "").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean);
}

Deno.test("web CORS: exact origins with credentials on the demo", async (t) => {
  await using svc = await startSvc({
    config: "config/svc.yaml",
    env: {
      ...WEB_ENV,
      SVC_SERVER_WEB_CORS_ALLOWED_ORIGINS: `${APP},http://127.0.0.1:3000`,
      SVC_SERVER_WEB_CORS_ALLOW_CREDENTIALS: "true",
      SVC_SERVER_WEB_CORS_ALLOWED_HEADERS: "authorization",
      SVC_SERVER_WEB_CORS_EXPOSED_HEADERS: "x-request-id",
      SVC_SERVER_WEB_CORS_MAX_AGE: "10m",
    },
  });
  const url = `http://127.0.0.1:${svc.port}${SAY_HELLO}`;

  await t.step("an allowed origin's preflight gets every CORS header", async () => {
    const r = await send(url, preflight(APP));
    assert.equal(r.status, 204, r.body);
    assert.equal(r.headers.get("access-control-allow-origin"), APP);
    assert.equal(r.headers.get("access-control-allow-credentials"), "true");
    assert.deepEqual(list(r.headers.get("access-control-allow-methods")), ["post", "get"]);
    const allowed = list(r.headers.get("access-control-allow-headers"));
    for (
      const name of ["content-type", "connect-protocol-version", "x-grpc-web", "authorization"]
    ) {
      assert.ok(allowed.includes(name), `${name} in ${allowed}`);
    }
    assert.equal(r.headers.get("access-control-max-age"), "600");
    assert.match(r.headers.get("vary") ?? "", /\bOrigin\b/);
  });

  await t.step("another origin's preflight gets no Access-Control-* header", async () => {
    for (const origin of [EVIL, "http://localhost:8081", "null"]) {
      const r = await send(url, preflight(origin));
      assert.equal(r.status, 204, r.body);
      assert.deepEqual(corsHeaderNames(r.headers), [], origin);
    }
  });

  await t.step("curl's Connect JSON POST from the origin can be read by the page", async () => {
    const r = await curl(url, [
      "-H",
      "content-type: application/json",
      "-H",
      `origin: ${APP}`,
      "--data-binary",
      '{"name":"Ada"}',
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { message: "Hello, Ada!" });
    assert.equal(r.headers.get("access-control-allow-origin"), APP);
    assert.equal(r.headers.get("access-control-allow-credentials"), "true");
    const exposed = list(r.headers.get("access-control-expose-headers"));
    for (const name of ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"]) {
      assert.ok(exposed.includes(name), `${name} in ${exposed}`);
    }
    assert.match(r.headers.get("vary") ?? "", /\bOrigin\b/);
  });

  // The CORS writer once rewrote a head already set, which HTTP/2 refused: the body was lost.
  await t.step("the same POST over HTTP/2 keeps its body and its CORS headers", async () => {
    const r = await curl(url, [
      "--http2-prior-knowledge",
      "-H",
      "content-type: application/json",
      "-H",
      `origin: ${APP}`,
      "--data-binary",
      '{"name":"Ada"}',
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { message: "Hello, Ada!" });
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(r.headers.get("access-control-allow-origin"), APP);
  });

  await t.step("a Connect error from the origin carries the CORS headers too", async () => {
    const r = await send(url, {
      method: "POST",
      headers: { origin: APP, "content-type": "application/json" },
      body: '{"name":5}',
    });
    assert.equal(r.status, 400, r.body);
    assert.equal(r.headers.get("access-control-allow-origin"), APP);
  });

  await t.step("another origin's POST is served, without CORS headers", async () => {
    const r = await send(url, {
      method: "POST",
      headers: { origin: EVIL, "content-type": "application/json" },
      body: '{"name":"Eve"}',
    });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { message: "Hello, Eve!" });
    assert.deepEqual(corsHeaderNames(r.headers), []);
  });

  await t.step("gRPC over HTTP/2 on the same port still works", async () => {
    const client = grpcClient(["proto/helloworld.proto"]).makeClient(
      "helloworld.Greeter",
      svc.port,
    );
    try {
      const reply = await unary(client, "sayHello", { name: "Grace" });
      assert.deepEqual(reply, { message: "Hello, Grace!" });
    } finally {
      client.close();
    }
  });
});

Deno.test("web CORS: * answers * without credentials; off sends nothing", async (t) => {
  await t.step("with *, any origin's preflight and POST get *", async () => {
    await using svc = await startSvc({
      config: "config/svc.yaml",
      env: { ...WEB_ENV, SVC_SERVER_WEB_CORS_ALLOWED_ORIGINS: "*" },
    });
    const url = `http://127.0.0.1:${svc.port}${SAY_HELLO}`;
    const pre = await send(url, preflight(EVIL));
    assert.equal(pre.status, 204, pre.body);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    assert.equal(pre.headers.get("access-control-allow-credentials"), null);
    assert.equal(pre.headers.get("access-control-max-age"), "7200");
    const post = await send(url, {
      method: "POST",
      headers: { origin: EVIL, "content-type": "application/json" },
      body: '{"name":"Ada"}',
    });
    assert.equal(post.status, 200, post.body);
    assert.equal(post.headers.get("access-control-allow-origin"), "*");
    assert.ok(list(post.headers.get("access-control-expose-headers")).includes("grpc-status"));
  });

  await t.step("with cors unset, no response has a CORS header", async () => {
    await using svc = await startSvc({ config: "config/svc.yaml", env: WEB_ENV });
    const url = `http://127.0.0.1:${svc.port}${SAY_HELLO}`;
    const pre = await send(url, preflight(APP));
    assert.deepEqual(corsHeaderNames(pre.headers), []);
    assert.notEqual(pre.status, 204, "no preflight answer without cors");
    const post = await send(url, {
      method: "POST",
      headers: { origin: APP, "content-type": "application/json" },
      body: '{"name":"Ada"}',
    });
    assert.equal(post.status, 200, post.body);
    assert.deepEqual(corsHeaderNames(post.headers), []);
  });
});

Deno.test("web CORS: an origin with a path is a config error naming the key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svc-web-cors-" });
  try {
    const config = `${dir}/svc.yaml`;
    await Deno.writeTextFile(
      config,
      [
        "protos:",
        `  files: [${JSON.stringify(`${ROOT}/proto`)}]`,
        `handlers: ${JSON.stringify(`${ROOT}/handlers`)}`,
        "server:",
        "  port: 0",
        "  web:",
        "    enabled: true",
        "    cors:",
        '      allowedOrigins: ["http://localhost:8080/app"]',
        "admin:",
        "  enabled: false",
        "",
      ].join("\n"),
    );
    const result = await runSvc(["run", config], { timeoutMs: 30_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /server\.web\.cors\.allowedOrigins\[0\]/, result.stderr);
    assert.match(result.stderr, /scheme:\/\/host\[:port\]/, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
