/**
 * End-to-end with the real curl over HTTP/1.1: with `server.web.enabled`,
 * a Connect JSON POST gets a JSON answer, bad JSON gets HTTP 400 with a
 * Connect error naming the field, a Connect GET works for a
 * NO_SIDE_EFFECTS method (and only for one), a Connect timeout header is
 * enforced by the server; with the switch off, HTTP/1.1 gets no answer.
 * @module
 */
import assert from "node:assert/strict";
import { startSvc } from "./_harness.ts";
import { curl, WEB_ENV } from "./_connect.ts";

const JSON_HEADERS = ["-H", "content-type: application/json"];

function json(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`Cannot parse the body as JSON: ${JSON.stringify(text.slice(0, 300))}`);
  }
}

Deno.test("web protocols: curl speaks Connect JSON to the demo", async (t) => {
  await using svc = await startSvc({ config: "config/svc.yaml", env: WEB_ENV });
  const url = `http://127.0.0.1:${svc.port}/helloworld.Greeter/SayHello`;

  await t.step("a JSON POST gets a JSON answer", async () => {
    const r = await curl(url, [...JSON_HEADERS, "--data-binary", '{"name":"Ada"}']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.status, 200, r.body);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(json(r.body), { message: "Hello, Ada!" });
  });

  await t.step("a wrongly typed field is HTTP 400 naming the field", async () => {
    const r = await curl(url, [...JSON_HEADERS, "--data-binary", '{"name":5}']);
    assert.equal(r.status, 400, r.body);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    const body = json(r.body);
    assert.equal(body.code, "invalid_argument", r.body);
    assert.match(String(body.message), /\bname\b/, r.body);
  });

  await t.step("malformed JSON is HTTP 400 invalid_argument", async () => {
    const r = await curl(url, [...JSON_HEADERS, "--data-binary", '{"name":']);
    assert.equal(r.status, 400, r.body);
    assert.equal(json(r.body).code, "invalid_argument", r.body);
  });

  await t.step("the handler's INVALID_ARGUMENT is HTTP 400 with its message", async () => {
    const body = JSON.stringify({ name: "x".repeat(201) });
    const r = await curl(url, [...JSON_HEADERS, "--data-binary", body]);
    assert.equal(r.status, 400, r.body);
    assert.deepEqual(json(r.body), {
      code: "invalid_argument",
      message: "name is 201 characters long; the limit is 200",
    });
  });

  await t.step("a Connect GET of a method with side effects is refused", async () => {
    // SayHello has no idempotency_level, so Connect allows it only by POST.
    const message = encodeURIComponent('{"name":"Ada"}');
    const r = await curl(`${url}?encoding=json&message=${message}&connect=v1`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.notEqual(r.status, 200, r.body);
    assert.equal(r.status, 405, r.body);
  });
});

Deno.test("web protocols: curl's Connect GET and timeout on the fixture service", async (t) => {
  await using svc = await startSvc({ config: "tests/fixtures/web/svc.yaml", env: WEB_ENV });
  const base = `http://127.0.0.1:${svc.port}/web.Probe`;

  await t.step("a Connect GET of a NO_SIDE_EFFECTS method is 200 JSON", async () => {
    const message = encodeURIComponent('{"message":"got by GET ✓"}');
    const r = await curl(`${base}/Echo?encoding=json&message=${message}&connect=v1`, [
      "-H",
      "x-user: ada",
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.status, 200, r.body);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    const body = json(r.body);
    assert.equal(body.message, "got by GET ✓");
    assert.deepEqual(body.metadata, { "x-user": "ada" });
    // Connect unary: headers as they are, trailers with a "trailer-" prefix.
    assert.equal(r.headers.get("x-probe-header"), "h-value");
    assert.equal(r.headers.get("trailer-x-probe-trailer"), "t-value");
  });

  await t.step("connect-timeout-ms is enforced by the server", async () => {
    const started = Date.now();
    const r = await curl(`${base}/Sleep`, [
      ...JSON_HEADERS,
      "-H",
      "connect-timeout-ms: 300",
      "--data-binary",
      '{"ms":10000}',
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(json(r.body).code, "deadline_exceeded", r.body);
    assert.equal(r.status, 504, r.body);
    assert.ok(Date.now() - started < 5_000, "answered well before the handler's 10 s");
  });

  await t.step("grpc-timeout on a gRPC-Web call is enforced by the server", async () => {
    // SleepRequest { ms: 10000 } in a gRPC-Web envelope: flag 0, length 3.
    const dir = await Deno.makeTempDir({ prefix: "svc-web-test-" });
    try {
      await Deno.writeFile(`${dir}/req`, new Uint8Array([0, 0, 0, 0, 3, 0x08, 0x90, 0x4e]));
      const started = Date.now();
      const r = await curl(`${base}/Sleep`, [
        "-H",
        "content-type: application/grpc-web+proto",
        "-H",
        "grpc-timeout: 300m",
        "--data-binary",
        `@${dir}/req`,
      ]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200, r.body);
      // Trailers-only (in the headers) or a trailers frame in the body: either is gRPC-Web.
      const status = r.headers.get("grpc-status") ?? /grpc-status:\s*(\d+)/.exec(r.body)?.[1];
      assert.equal(status, "4", `headers ${[...r.headers].join("; ")}; body ${r.body}`);
      assert.ok(Date.now() - started < 5_000, "answered well before the handler's 10 s");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("a Connect error carries the handler's code and metadata", async () => {
    const r = await curl(`${base}/Fail`, [
      ...JSON_HEADERS,
      "--data-binary",
      '{"code":7,"message":"not you"}',
    ]);
    assert.equal(r.status, 403, r.body);
    assert.deepEqual(json(r.body), { code: "permission_denied", message: "not you" });
    // Error metadata may travel as a header or as a "trailer-" one; both are Connect.
    const detail = r.headers.get("x-error-detail") ?? r.headers.get("trailer-x-error-detail");
    assert.equal(detail, "why", [...r.headers].join("; "));
  });
});

Deno.test("web protocols: with the switch off, HTTP/1.1 gets no answer", async () => {
  await using svc = await startSvc({
    config: "config/svc.yaml",
    env: { SVC_SERVER_WEB_ENABLED: "false", SVC_SERVER_TRANSPORT: "native" },
  });
  const url = `http://127.0.0.1:${svc.port}/helloworld.Greeter/SayHello`;
  const r = await curl(url, [...JSON_HEADERS, "--data-binary", '{"name":"Ada"}'], 10);
  // Today's behaviour: the HTTP/2-only port answers HTTP/1.1 with no HTTP
  // response curl accepts (it reports HTTP/0.9 or a closed connection).
  assert.notEqual(r.exitCode, 0, `curl got HTTP ${r.status}: ${r.body}`);
  assert.equal(r.status, 0, r.body);
});
