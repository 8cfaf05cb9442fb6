/**
 * End-to-end in a real browser: headless Chromium opens a page served from
 * another origin than svc's, whose script (tests/browser/page.ts, bundled
 * with esbuild from @connectrpc/connect-web at test time) calls the auth
 * example (helloworld.Greeter behind examples/auth/handlers/_middleware.ts)
 * with the Connect (JSON) and gRPC-Web transports: a unary call, a server
 * stream, and a call without a token. So CORS runs for real: preflights,
 * the allowed request headers (authorization, Connect's and gRPC-Web's own),
 * and the exposed response headers gRPC-Web reads its status from.
 *
 * The same page from a third origin, not in `allowedOrigins`, must get
 * nothing through: the browser blocks every call, and svc's preflight answer
 * for that origin carries no `access-control-*` header.
 *
 * Screenshots of both pages are kept in tests/.artifacts/ as evidence.
 * @module
 */
// Imported so Deno puts the package into node_modules, where esbuild
// resolves the page's imports (tests/browser/bundle.ts).
import "@connectrpc/connect-web";
import assert from "node:assert/strict";
import { grpcClient, ROOT, startSvc } from "./_harness.ts";
import { grpcCall, type Outcome, WEB_ENV } from "./_connect.ts";
import { buildPage, type BuiltPage } from "./browser/bundle.ts";
import { type BrowserPage, findChromium, launchChromium } from "./browser/chromium.ts";
import type { CallOutcome, PageSummary } from "./browser/page.ts";

const TOKEN = "browser-token";
const ARTIFACTS = `${ROOT}/tests/.artifacts`;
/** How long the page gets to make its six calls and set its title. */
const PAGE_TIMEOUT_MS = 20_000;
const UNAUTHENTICATED = 16;

Deno.test("browser: connect-web in headless Chromium calls svc across origins, with CORS", async (t) => {
  findChromium(); // fails first, with the package to install, when it is missing
  const tmp = await Deno.makeTempDir({ prefix: "svc-browser-" });
  const servers: Deno.HttpServer[] = [];
  try {
    const page = await buildPage(ROOT, tmp);
    const allowed = servePage(page, servers);
    const disallowed = servePage(page, servers);
    await Deno.writeTextFile(`${tmp}/svc.yaml`, svcConfig(allowed));
    await using svc = await startSvc({
      config: `${tmp}/svc.yaml`,
      env: { ...WEB_ENV, AUTH_TOKENS: TOKEN },
    });
    const svcUrl = `http://127.0.0.1:${svc.port}`;
    const pageUrl = (origin: string) =>
      `${origin}/?svc=${encodeURIComponent(svcUrl)}&token=${encodeURIComponent(TOKEN)}`;

    // The references: the same calls over gRPC, straight from Deno.
    const grpcGreeter = grpcClient(["proto/helloworld.proto"])
      .makeClient("helloworld.Greeter", svc.port);
    let reference: { unary: Outcome; stream: Outcome; unauthenticated: Outcome };
    try {
      const authorization = { authorization: `Bearer ${TOKEN}` };
      reference = {
        unary: await grpcCall(grpcGreeter, "sayHello", { name: "Ada" }, { headers: authorization }),
        stream: await grpcCall(grpcGreeter, "lotsOfReplies", { name: "Bo" }, {
          headers: authorization,
        }),
        unauthenticated: await grpcCall(grpcGreeter, "sayHello", { name: "Eve" }),
      };
    } finally {
      grpcGreeter.close();
    }
    assert.deepEqual(reference.unary.messages, [{ message: "Hello, Ada!" }]);
    assert.equal(reference.stream.messages.length, 3, "the demo streams three replies");
    assert.equal(reference.unauthenticated.error?.code, UNAUTHENTICATED);

    await using browser = await launchChromium({ lifetimeMs: 50_000 });

    await t.step("allowed origin: unary, stream and the auth refusal arrive", async () => {
      const tab = await browser.open(pageUrl(allowed));
      const summary = await readSummary(tab);
      const shot = await keepScreenshot(tab, "web_browser.png");
      console.log(`screenshot (allowed origin): ${shot}`);
      const context = () => `page log:\n${tab.log().join("\n")}\n${JSON.stringify(summary)}`;
      assert.equal(summary.fatal, undefined, context());
      assert.equal(summary.origin, allowed);
      assert.ok(!tab.log().some((line) => /CORS/.test(line)), context());
      for (const transport of ["connect", "grpcWeb"] as const) {
        const got = summary.transports[transport];
        assert.deepEqual(got.unary, outcomeOf(reference.unary), `${transport} unary; ${context()}`);
        assert.deepEqual(
          got.stream,
          outcomeOf(reference.stream),
          `${transport} stream; ${context()}`,
        );
        assert.deepEqual(got.unauthenticated, {
          messages: [],
          error: { code: UNAUTHENTICATED, message: reference.unauthenticated.error!.message },
        }, `${transport} without a token; ${context()}`);
      }
    });

    await t.step("disallowed origin: the browser blocks every call", async () => {
      const tab = await browser.open(pageUrl(disallowed));
      const summary = await readSummary(tab);
      const shot = await keepScreenshot(tab, "web_browser_disallowed.png");
      console.log(`screenshot (disallowed origin): ${shot}`);
      const context = () => `page log:\n${tab.log().join("\n")}\n${JSON.stringify(summary)}`;
      assert.equal(summary.fatal, undefined, context());
      assert.equal(summary.origin, disallowed);
      for (const transport of ["connect", "grpcWeb"] as const) {
        for (const call of ["unary", "stream", "unauthenticated"] as const) {
          const got = summary.transports[transport][call];
          assert.deepEqual(got.messages, [], `${transport} ${call}; ${context()}`);
          // Not UNAUTHENTICATED: svc's answer never reached the page at all.
          assert.ok(got.error, `${transport} ${call} must fail; ${context()}`);
          assert.notEqual(got.error.code, UNAUTHENTICATED, `${transport} ${call}; ${context()}`);
        }
      }
      // Chromium's own word that CORS stopped the calls (not, say, a dead server).
      assert.ok(
        tab.log().some((line) =>
          line.includes(`from origin '${disallowed}' has been blocked by CORS`)
        ),
        `the browser reports a CORS refusal; ${context()}`,
      );
    });

    await t.step("svc's preflight answers the disallowed origin with no CORS header", async () => {
      const forAllowed = await preflight(svcUrl, allowed);
      assert.equal(forAllowed.get("access-control-allow-origin"), allowed);
      const forDisallowed = await preflight(svcUrl, disallowed);
      const corsHeaders = [...forDisallowed.keys()].filter((k) => k.startsWith("access-control-"));
      assert.deepEqual(corsHeaders, []);
    });
  } finally {
    await Promise.all(servers.map((s) => s.shutdown()));
    await Deno.remove(tmp, { recursive: true });
  }
});

/** The auth example with the web protocols on and CORS for the page's origin only. */
function svcConfig(allowedOrigin: string): string {
  return `# Written by tests/web_browser_test.ts: the auth example, reachable from one web origin.
service: { name: greeter-browser }
protos: { files: [${ROOT}/proto] }
handlers: ${ROOT}/examples/auth/handlers
admin: { enabled: false }
server:
  web:
    enabled: true
    cors:
      allowedOrigins: ["${allowedOrigin}"]
      allowCredentials: false
      allowedHeaders: [authorization]
      exposedHeaders: []
      maxAge: 2h
`;
}

/** Serves the built page on a new port of 127.0.0.1 (a new origin); returns that origin. */
function servePage(page: BuiltPage, servers: Deno.HttpServer[]): string {
  const types: Record<string, string> = {
    "/": "text/html; charset=utf-8",
    "/page.js": "text/javascript; charset=utf-8",
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname as keyof BuiltPage;
    const body = page[path];
    if (!body) return new Response("not found", { status: 404 });
    return new Response(body, { headers: { "content-type": types[path] } });
  });
  servers.push(server);
  return `http://127.0.0.1:${server.addr.port}`;
}

/** Waits (bounded) for the page's title to become "done", then reads its JSON. */
async function readSummary(tab: BrowserPage): Promise<PageSummary> {
  const until = Date.now() + PAGE_TIMEOUT_MS;
  while (Date.now() < until) {
    // Evaluated again each time: during navigation the context may not exist yet.
    const text = await tab.evaluate<string | null>(
      `document.title === "done" ? document.getElementById("result").textContent : null`,
    ).catch(() => null);
    if (text) return JSON.parse(text);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `the page did not finish within ${PAGE_TIMEOUT_MS} ms; page log:\n${tab.log().join("\n")}`,
  );
}

/** Writes the page's screenshot to tests/.artifacts/`name`; returns its path. */
async function keepScreenshot(tab: BrowserPage, name: string): Promise<string> {
  const png = await tab.screenshot();
  // A PNG starts with "\x89PNG"; anything else is not a screenshot.
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const path = `${ARTIFACTS}/${name}`;
  await Deno.writeFile(path, png);
  return path;
}

/** What the page reports for a call that went like the gRPC reference. */
function outcomeOf(reference: Outcome): CallOutcome {
  return { messages: reference.messages, error: reference.error };
}

/** A browser-like CORS preflight for a Connect call, sent from Deno; returns the answer's headers. */
async function preflight(svcUrl: string, origin: string): Promise<Headers> {
  const client = Deno.createHttpClient({});
  try {
    const res = await fetch(`${svcUrl}/helloworld.Greeter/SayHello`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,connect-protocol-version,content-type",
      },
      client,
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    return res.headers;
  } finally {
    client.close();
  }
}
