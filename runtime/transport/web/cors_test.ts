/**
 * withCors() over real sockets: an Http1Connection on a loopback node:net
 * server serving a small inner handler through the decorator, and Deno's
 * fetch as the client (it does not enforce CORS, so every header the server
 * sent is visible). Also how `server.web.cors` resolves and what it refuses.
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { UserInputError } from "../../core/errors.ts";
import { resolveConfig } from "../../config/resolve.ts";
import type { ResolvedWebCors } from "../../config/types.ts";
import { Http1Connection } from "../http1/mod.ts";
import type { Http1Handler } from "../http1/mod.ts";
import { TEST_LIMITS, TEST_TICK_MS } from "../http1/_testing.ts";
import { nodeSocket } from "../native/socket.ts";
import { withCors } from "./cors.ts";

const APP = "http://app.example:8080";
const EVIL = "http://evil.example";

const BASE: ResolvedWebCors = {
  allowedOrigins: [APP],
  allowCredentials: false,
  allowedHeaders: [],
  exposedHeaders: [],
  maxAge: 7_200_000,
};

/** Answers 200 "ok" with `x-inner`; `/implicit` writes without writeHead; counts calls. */
function innerHandler(calls: string[]): Http1Handler {
  return async (request, response) => {
    calls.push(`${request.method} ${request.path}`);
    for await (const _ of request.body) { /* read it all */ }
    const body = new TextEncoder().encode("ok");
    if (request.path !== "/implicit") {
      response.writeHead(200, [["x-inner", "yes"], ["content-length", "2"]]);
    }
    await response.write(body);
    await response.end();
  };
}

/** Serves withCors(inner, cors) on a loopback port for the length of `test`. */
async function withServer(
  cors: ResolvedWebCors,
  test: (base: string, calls: string[]) => Promise<void>,
): Promise<void> {
  const calls: string[] = [];
  const handler = withCors(innerHandler(calls), cors);
  const connections = new Set<Http1Connection>();
  const server: Server = createServer({ noDelay: true }, (socket: Socket) => {
    const connection: Http1Connection = new Http1Connection(
      nodeSocket(socket, null),
      new Uint8Array(0),
      handler,
      TEST_LIMITS,
      { onClose: () => connections.delete(connection) },
    );
    connections.add(connection);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const ticker = setInterval(() => {
    for (const connection of connections) connection.tick(performance.now());
  }, TEST_TICK_MS);
  const port = (server.address() as { port: number }).port;
  try {
    await test(`http://127.0.0.1:${port}`, calls);
  } finally {
    clearInterval(ticker);
    for (const connection of [...connections]) connection.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Sends a request bounded by 5 s; returns status, headers and body text. */
async function send(
  url: string,
  init: RequestInit,
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

function preflight(origin: string, method = "POST"): RequestInit {
  return {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "content-type,connect-protocol-version",
    },
  };
}

function corsHeaderNames(headers: Headers): string[] {
  return [...headers.keys()].filter((name) => name.startsWith("access-control-"));
}

Deno.test("withCors() answers an allowed preflight itself, with every CORS header", async () => {
  await withServer(BASE, async (base, calls) => {
    const r = await send(`${base}/pkg.Svc/Method`, preflight(APP));
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), APP);
    assert.equal(r.headers.get("access-control-allow-methods"), "POST, GET");
    const allowed = (r.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const name of ["content-type", "connect-protocol-version", "x-grpc-web", "grpc-timeout"]) {
      assert.ok(allowed.split(", ").includes(name), `${name} in ${allowed}`);
    }
    assert.equal(r.headers.get("access-control-max-age"), "7200");
    assert.equal(r.headers.get("access-control-allow-credentials"), null);
    assert.match(r.headers.get("vary") ?? "", /Origin, Access-Control-Request-Method/);
    assert.deepEqual(calls, [], "the inner handler never sees a preflight");
  });
});

Deno.test("withCors() gives a refused preflight no CORS header at all", async () => {
  await withServer(BASE, async (base, calls) => {
    for (
      const init of [
        preflight(EVIL),
        preflight("http://app.example"), // another port is another origin
        preflight(APP, "DELETE"), // a method the web protocols do not use
      ]
    ) {
      const r = await send(`${base}/pkg.Svc/Method`, init);
      assert.equal(r.status, 204);
      assert.deepEqual(corsHeaderNames(r.headers), [], JSON.stringify(init.headers));
    }
    assert.deepEqual(calls, []);
  });
});

Deno.test("withCors() answers a plain OPTIONS with allow, not the inner handler", async () => {
  await withServer(BASE, async (base, calls) => {
    const r = await send(`${base}/pkg.Svc/Method`, { method: "OPTIONS", headers: { origin: APP } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("allow"), "POST, GET, OPTIONS");
    assert.deepEqual(corsHeaderNames(r.headers), []);
    assert.deepEqual(calls, []);
  });
});

Deno.test("withCors() adds allow-origin and expose-headers to an allowed origin's answer", async () => {
  await withServer({ ...BASE, exposedHeaders: ["x-request-id", "GRPC-STATUS"] }, async (base) => {
    for (const path of ["/explicit", "/implicit"]) {
      const r = await send(`${base}${path}`, { method: "POST", headers: { origin: APP } });
      assert.equal(r.status, 200);
      assert.equal(r.body, "ok");
      assert.equal(r.headers.get("access-control-allow-origin"), APP, path);
      assert.equal(
        r.headers.get("access-control-expose-headers"),
        "Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin, Content-Encoding, " +
          "Connect-Content-Encoding, x-request-id",
        "built-in first, configured after, no duplicates",
      );
      assert.equal(r.headers.get("vary"), "Origin");
    }
  });
});

Deno.test("withCors() serves a refused origin's actual request without CORS headers", async () => {
  await withServer(BASE, async (base, calls) => {
    const refused = await send(`${base}/a`, { method: "POST", headers: { origin: EVIL } });
    assert.equal(refused.status, 200);
    assert.equal(refused.headers.get("x-inner"), "yes");
    assert.deepEqual(corsHeaderNames(refused.headers), []);
    assert.equal(refused.headers.get("vary"), "Origin", "a cache must not reuse it for APP");
    const sameOrigin = await send(`${base}/b`, { method: "POST" });
    assert.deepEqual(corsHeaderNames(sameOrigin.headers), []);
    assert.deepEqual(calls, ["POST /a", "POST /b"]);
  });
});

Deno.test("withCors() with * answers * to anyone, and no Vary on actual answers", async () => {
  await withServer({ ...BASE, allowedOrigins: ["*"] }, async (base) => {
    const pre = await send(`${base}/m`, preflight(EVIL));
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    const actual = await send(`${base}/m`, { method: "POST", headers: { origin: EVIL } });
    assert.equal(actual.headers.get("access-control-allow-origin"), "*");
    assert.equal(actual.headers.get("vary"), null);
  });
});

Deno.test("withCors() with credentials echoes the origin, even for *", async () => {
  await withServer({ ...BASE, allowedOrigins: ["*"], allowCredentials: true }, async (base) => {
    const pre = await send(`${base}/m`, preflight(EVIL));
    assert.equal(pre.headers.get("access-control-allow-origin"), EVIL);
    assert.equal(pre.headers.get("access-control-allow-credentials"), "true");
    const actual = await send(`${base}/m`, { method: "POST", headers: { origin: EVIL } });
    assert.equal(actual.headers.get("access-control-allow-origin"), EVIL);
    assert.equal(actual.headers.get("access-control-allow-credentials"), "true");
    assert.equal(actual.headers.get("vary"), "Origin");
  });
});

Deno.test("withCors() adds configured request headers and honours maxAge", async () => {
  const cors = { ...BASE, allowedHeaders: ["authorization", "content-type"], maxAge: 90_500 };
  await withServer(cors, async (base) => {
    const r = await send(`${base}/m`, preflight(APP));
    const names = (r.headers.get("access-control-allow-headers") ?? "").split(", ");
    assert.equal(names.at(-1), "authorization");
    assert.equal(names.filter((n) => n.toLowerCase() === "content-type").length, 1);
    assert.equal(r.headers.get("access-control-max-age"), "90");
  });
});

// The config side: what server.web.cors resolves to and what it refuses.
function resolveCors(env: Record<string, string>): ResolvedWebCors {
  return resolveConfig("", `${Deno.cwd()}/svc.yaml`, env).server.web.cors;
}

function configIssues(yaml: string): string[] {
  try {
    resolveConfig(yaml, `${Deno.cwd()}/svc.yaml`, {});
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    return error.issues.map((issue) => `${issue.where ?? ""}: ${issue.message}`);
  }
  return [];
}

Deno.test("server.web.cors is off by default and normalizes origins", () => {
  assert.deepEqual(resolveCors({}), {
    allowedOrigins: [],
    allowCredentials: false,
    allowedHeaders: [],
    exposedHeaders: [],
    maxAge: 7_200_000,
  });
  const cors = resolveCors({
    SVC_SERVER_WEB_CORS_ALLOWED_ORIGINS:
      "https://App.Example:443,http://localhost:80,http://[::1]:5173",
    SVC_SERVER_WEB_CORS_ALLOWED_HEADERS: "Authorization",
  });
  assert.deepEqual(cors.allowedOrigins, [
    "https://app.example",
    "http://localhost",
    "http://[::1]:5173",
  ]);
  assert.deepEqual(cors.allowedHeaders, ["authorization"]);
});

Deno.test("server.web.cors refuses origins with a path, and header names with spaces", () => {
  const issues = configIssues(
    "server:\n  web:\n    cors:\n" +
      '      allowedOrigins: ["http://ok.example", "http://app.example/", "app.example"]\n' +
      '      exposedHeaders: ["x ok"]\n',
  );
  assert.equal(issues.length, 3, issues.join("\n"));
  assert.match(issues[0], /^server\.web\.cors\.allowedOrigins\[1\]: .*scheme:\/\/host/);
  assert.match(issues[1], /^server\.web\.cors\.allowedOrigins\[2\]: /);
  assert.match(issues[2], /^server\.web\.cors\.exposedHeaders\[0\]: .*header name/);
});
