/**
 * A web call gets what a gRPC call gets, end to end on a real svc: the
 * metrics on the admin port count Connect and gRPC-Web calls with the same
 * labels, a rate limit refuses them with RESOURCE_EXHAUSTED in each
 * protocol's spelling (HTTP 429, grpc-status 8), the access log has their
 * line with method, code and peer, the auth example's middleware guards
 * them (from curl, and from a browser's CORS preflight on), and tracing
 * records their server span in the caller's trace (W3C traceparent).
 *
 * Metadata and deadlines reaching the handler are in web_metadata_test.ts
 * (every protocol, through connect-node) and web_curl_test.ts (the server
 * enforcing connect-timeout-ms and grpc-timeout); here only the one path
 * those leave out: a Connect GET's connect-timeout-ms.
 * @module
 */
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { findSamples, parseExposition, type Sample } from "../runtime/metrics/_exposition.ts";
import { grpcClient, startSvc, type SvcProcess, unary } from "./_harness.ts";
import { describeSpans, otlpProtoMissing, startOtlpReceiver } from "./_otlp.ts";
import {
  connectCall,
  curl,
  type CurlResult,
  loadRegistry,
  WEB_ENV,
  webClients,
} from "./_connect.ts";

const JSON_HEADERS = ["-H", "content-type: application/json"];

function json(r: CurlResult): Record<string, unknown> {
  try {
    return JSON.parse(r.body);
  } catch {
    throw new Error(`HTTP ${r.status}, not JSON: ${JSON.stringify(r.body.slice(0, 300))}`);
  }
}

/** A Connect JSON call with the real curl. */
function connectJson(
  svc: SvcProcess,
  path: string,
  body: unknown,
  args: string[] = [],
): Promise<CurlResult> {
  return curl(`http://127.0.0.1:${svc.port}${path}`, [
    ...JSON_HEADERS,
    ...args,
    "--data-binary",
    JSON.stringify(body),
  ]);
}

async function metrics(svc: SvcProcess): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`, {
    signal: AbortSignal.timeout(10_000),
  });
  return parseExposition(await response.text());
}

/** The sum of `name` over the series with `labels` (0 when there are none yet). */
async function counted(
  svc: SvcProcess,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  return findSamples(await metrics(svc), name, labels).reduce((n, s) => n + s.value, 0);
}

/** Access-log lines (`msg: "call"`) of `method`. */
function accessLines(svc: SvcProcess, method: string): Record<string, unknown>[] {
  return svc.logs().filter((l) => l.msg === "call" && l.method === method);
}

/** Waits (bounded) until `method` has `count` access-log lines; returns them. */
async function awaitAccessLines(
  svc: SvcProcess,
  method: string,
  count: number,
): Promise<Record<string, unknown>[]> {
  // Log lines are written in batches, once per turn of svc's event loop.
  await svc.waitForLog(() => accessLines(svc, method).length >= count, 10_000).catch(() => {
    throw new Error(`Not ${count} access-log lines for ${method}: ${JSON.stringify(svc.logs())}`);
  });
  return accessLines(svc, method);
}

/** The gRPC-Web status of a curl answer: trailers-only in the headers, or the trailer frame. */
function grpcWebStatus(r: CurlResult): string | undefined {
  return r.headers.get("grpc-status") ?? /grpc-status:\s*(\d+)/.exec(r.body)?.[1];
}

Deno.test("web pipeline: metrics, rate limits and the access log see web calls", async (t) => {
  await using svc = await startSvc({
    config: "tests/fixtures/web/svc.yaml",
    env: {
      ...WEB_ENV,
      SVC_ADMIN_ENABLED: "true",
      SVC_LOGGING_ACCESS_LOG: "true",
      // One call, then refused for the rest of the test (one token per 1000 s).
      SVC_RATE_LIMIT_PER_METHOD: JSON.stringify({ "/web.Probe/Sleep": { rate: 0.001, burst: 1 } }),
    },
  });
  assert.ok(svc.adminPort, "the admin port is on");
  const registry = await loadRegistry(
    "tests/fixtures/web/proto/web.proto",
    "tests/fixtures/web/proto",
  );
  const probe = registry.getService("web.Probe")!;
  await using web = webClients(svc.port);
  const grpcWeb = web.client("grpc-web", probe);
  const handled = (method: string, code: string) =>
    counted(svc, "grpc_server_handled_total", {
      grpc_type: "unary",
      grpc_service: "web.Probe",
      grpc_method: method,
      grpc_code: code,
    });

  await t.step("grpc_server_handled_total counts each Connect and gRPC-Web call once", async () => {
    assert.equal(await handled("Echo", "OK"), 0);
    for (let i = 0; i < 3; i++) {
      const r = await connectJson(svc, "/web.Probe/Echo", { message: `connect ${i}` });
      assert.equal(r.status, 200, r.body);
    }
    assert.equal(await handled("Echo", "OK"), 3, "after three Connect JSON calls");
    for (let i = 0; i < 2; i++) {
      const o = await connectCall(grpcWeb, probe, "echo", { message: `grpc-web ${i}` });
      assert.equal(o.error, null);
    }
    assert.equal(await handled("Echo", "OK"), 5, "after two gRPC-Web calls");
    assert.equal(
      await counted(svc, "grpc_server_started_total", {
        grpc_service: "web.Probe",
        grpc_method: "Echo",
      }),
      5,
    );

    // Errors are counted under their gRPC code, whatever the protocol spelled.
    const refused = await connectJson(svc, "/web.Probe/Fail", { code: 7, message: "no" });
    assert.equal(refused.status, 403, refused.body);
    const missing = await connectCall(grpcWeb, probe, "fail", { code: 5, message: "gone" });
    assert.equal(missing.error?.code, Code.NotFound);
    assert.equal(await handled("Fail", "PermissionDenied"), 1);
    assert.equal(await handled("Fail", "NotFound"), 1);
  });

  await t.step(
    "a rate limit refuses Connect with HTTP 429 and gRPC-Web with grpc-status 8",
    async () => {
      const first = await connectJson(svc, "/web.Probe/Sleep", { ms: 0 });
      assert.equal(first.status, 200, first.body);

      const connect = await connectJson(svc, "/web.Probe/Sleep", { ms: 0 });
      assert.equal(connect.status, 429, connect.body);
      const body = json(connect);
      assert.equal(body.code, "resource_exhausted", connect.body);
      assert.match(
        String(body.message),
        /^rate limit "perMethod \/web\.Probe\/Sleep" exceeded/,
        connect.body,
      );

      const viaClient = await connectCall(grpcWeb, probe, "sleep", { ms: 0 });
      assert.equal(viaClient.error?.code, Code.ResourceExhausted, JSON.stringify(viaClient));

      // The same on the wire: SleepRequest {} in a gRPC-Web envelope (flag 0, length 0).
      const dir = await Deno.makeTempDir({ prefix: "svc-web-pipeline-" });
      try {
        await Deno.writeFile(`${dir}/req`, new Uint8Array([0, 0, 0, 0, 0]));
        const raw = await curl(`http://127.0.0.1:${svc.port}/web.Probe/Sleep`, [
          "-H",
          "content-type: application/grpc-web+proto",
          "--data-binary",
          `@${dir}/req`,
        ]);
        assert.equal(raw.status, 200, raw.body);
        assert.equal(grpcWebStatus(raw), "8", `${[...raw.headers].join("; ")}; ${raw.body}`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }

      const rejections = await counted(svc, "svc_rate_limit_rejections_total", {
        grpc_service: "web.Probe",
        grpc_method: "Sleep",
      });
      assert.equal(rejections, 3);
      assert.equal(await handled("Sleep", "OK"), 1);
      assert.equal(await handled("Sleep", "ResourceExhausted"), 3);
    },
  );

  await t.step("the access log has one line per web call with method, code and peer", async () => {
    const echo = await awaitAccessLines(svc, "/web.Probe/Echo", 5);
    assert.equal(echo.length, 5, JSON.stringify(echo));
    for (const line of echo) {
      assert.equal(line.code, "OK");
      assert.equal(line.kind, "unary");
      assert.equal(line.received, 1);
      assert.equal(line.sent, 1);
      // The HTTP/1.1 client's address, as for a gRPC call.
      assert.match(String(line.peer), /^127\.0\.0\.1:\d+$/, JSON.stringify(line));
    }
    const fail = await awaitAccessLines(svc, "/web.Probe/Fail", 2);
    assert.deepEqual(fail.map((l) => l.code).sort(), ["NotFound", "PermissionDenied"]);
    const sleep = await awaitAccessLines(svc, "/web.Probe/Sleep", 4);
    assert.deepEqual(sleep.map((l) => l.code).sort(), [
      "OK",
      "ResourceExhausted",
      "ResourceExhausted",
      "ResourceExhausted",
    ]);
  });

  await t.step(
    "a Connect GET's connect-timeout-ms reaches the handler as its deadline",
    async () => {
      const message = encodeURIComponent(JSON.stringify({ message: "by GET" }));
      const r = await curl(
        `http://127.0.0.1:${svc.port}/web.Probe/Echo?encoding=json&message=${message}&connect=v1`,
        ["-H", "connect-timeout-ms: 4000"],
      );
      assert.equal(r.status, 200, r.body);
      const left = Number(json(r).deadlineInMs);
      assert.ok(left > 0 && left <= 4_000, `deadline seen by the handler: ${left} ms`);
    },
  );
});

Deno.test("web pipeline: the auth example's middleware guards web calls", async (t) => {
  const origin = "http://app.example";
  await using svc = await startSvc({
    config: "examples/auth/svc.yaml",
    env: {
      ...WEB_ENV,
      AUTH_TOKENS: "secret-1,secret-2",
      // What a browser app on another origin needs: CORS, with authorization allowed.
      SVC_SERVER_WEB_CORS_ALLOWED_ORIGINS: origin,
      SVC_SERVER_WEB_CORS_ALLOWED_HEADERS: "authorization",
    },
  });
  const path = "/helloworld.Greeter/SayHello";
  const bearer = (token: string) => ["-H", `authorization: Bearer ${token}`];

  await t.step("a Connect call without a token is HTTP 401 unauthenticated", async () => {
    const r = await connectJson(svc, path, { name: "Ada" });
    assert.equal(r.status, 401, r.body);
    assert.deepEqual(json(r), {
      code: "unauthenticated",
      message: 'missing "authorization: Bearer <token>" metadata',
    });
    const wrong = await connectJson(svc, path, { name: "Ada" }, bearer("nope"));
    assert.equal(wrong.status, 401, wrong.body);
    assert.equal(json(wrong).message, "invalid bearer token");
  });

  await t.step("a Connect call with a token is served", async () => {
    const r = await connectJson(svc, path, { name: "Ada" }, bearer("secret-2"));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(json(r), { message: "Hello, Ada!" });
  });

  await t.step("gRPC-Web gets UNAUTHENTICATED without a token, the answer with one", async () => {
    const registry = await loadRegistry("proto/helloworld.proto", "proto");
    const greeter = registry.getService("helloworld.Greeter")!;
    await using web = webClients(svc.port);
    const client = web.client("grpc-web", greeter);
    const refused = await connectCall(client, greeter, "sayHello", { name: "Ada" });
    assert.equal(refused.error?.code, Code.Unauthenticated, JSON.stringify(refused));
    const served = await connectCall(client, greeter, "sayHello", { name: "Ada" }, {
      headers: { authorization: "Bearer secret-1" },
    });
    assert.deepEqual(served.messages, [{ message: "Hello, Ada!" }]);
  });

  await t.step(
    "a browser's preflight allows authorization, and the call reads the answer",
    async () => {
      const preflight = await curl(`http://127.0.0.1:${svc.port}${path}`, [
        "-X",
        "OPTIONS",
        "-H",
        `origin: ${origin}`,
        "-H",
        "access-control-request-method: POST",
        "-H",
        "access-control-request-headers: authorization,content-type,connect-protocol-version",
      ]);
      assert.equal(preflight.status, 204, preflight.body);
      assert.equal(preflight.headers.get("access-control-allow-origin"), origin);
      assert.match(
        preflight.headers.get("access-control-allow-headers") ?? "",
        /\bauthorization\b/i,
        [...preflight.headers].join("; "),
      );
      const r = await connectJson(svc, path, { name: "Ada" }, [
        ...bearer("secret-1"),
        "-H",
        `origin: ${origin}`,
      ]);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.headers.get("access-control-allow-origin"), origin);
      // The refusal reaches the browser's script too: it carries the CORS headers.
      const refused = await connectJson(svc, path, { name: "Ada" }, ["-H", `origin: ${origin}`]);
      assert.equal(refused.status, 401, refused.body);
      assert.equal(refused.headers.get("access-control-allow-origin"), origin);
    },
  );

  await t.step("gRPC calls are guarded the same way (the reference)", async () => {
    const client = grpcClient(["proto/helloworld.proto"]).makeClient(
      "helloworld.Greeter",
      svc.port,
    );
    try {
      await assert.rejects(
        unary(client, "sayHello", { name: "Ada" }),
        (e: { code: number }) => e.code === Code.Unauthenticated,
      );
    } finally {
      client.close();
    }
    const codes = svc.logs().filter((l) => l.msg === "call" && l.method === path).map((l) =>
      l.code
    );
    assert.ok(codes.includes("Unauthenticated") && codes.includes("OK"), codes.join(", "));
  });
});

const otlpMissing = await otlpProtoMissing();

Deno.test({
  name: "web pipeline: a web call is traced, joining its caller's trace",
  ignore: otlpMissing !== null,
  async fn() {
    await using receiver = await startOtlpReceiver();
    await using svc = await startSvc({
      config: "tests/fixtures/web/svc.yaml",
      env: {
        ...WEB_ENV,
        SVC_LOGGING_ACCESS_LOG: "true",
        SVC_TRACING_ENABLED: "true",
        SVC_TRACING_EXPORTER_ENDPOINT: receiver.url,
        SVC_TRACING_BATCH_SCHEDULE_DELAY: "100ms",
      },
    });
    // One trace per protocol, each with the caller's span as the parent.
    const callers = {
      connect: { trace: "0af7651916cd43dd8448eb211c80319c", span: "b7ad6b7169203331" },
      grpcWeb: { trace: "4bf92f3577b34da6a3ce929d0e0e4736", span: "00f067aa0ba902b7" },
    };
    const traceparent = (c: { trace: string; span: string }) => `00-${c.trace}-${c.span}-01`;
    const r = await connectJson(svc, "/web.Probe/Echo", { message: "traced" }, [
      "-H",
      `traceparent: ${traceparent(callers.connect)}`,
    ]);
    assert.equal(r.status, 200, r.body);
    const registry = await loadRegistry(
      "tests/fixtures/web/proto/web.proto",
      "tests/fixtures/web/proto",
    );
    const probe = registry.getService("web.Probe")!;
    await using web = webClients(svc.port);
    const o = await connectCall(web.client("grpc-web", probe), probe, "echo", { message: "t" }, {
      headers: { traceparent: traceparent(callers.grpcWeb) },
    });
    assert.equal(o.error, null);

    const isEcho = (s: { kind: string; name: string }) =>
      s.kind === "SPAN_KIND_SERVER" && s.name === "web.Probe/Echo";
    const spans = await receiver.waitForSpans((all) => all.filter(isEcho).length >= 2);
    for (const caller of Object.values(callers)) {
      const found = spans.filter((s) => isEcho(s) && s.trace_id === caller.trace);
      assert.equal(found.length, 1, describeSpans(spans));
      assert.equal(found[0].parent_span_id, caller.span, describeSpans(found));
      assert.equal(found[0].attributes["rpc.method"], "Echo");
    }
    // The access-log lines join the same traces.
    const lines = await awaitAccessLines(svc, "/web.Probe/Echo", 2);
    assert.deepEqual(
      lines.map((l) => l.trace_id).sort(),
      Object.values(callers).map((c) => c.trace).sort(),
    );
  },
});
