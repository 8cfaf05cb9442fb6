/**
 * End-to-end: what travels beside the messages on gRPC-Web and Connect over
 * HTTP/1.1 and HTTP/2 (request metadata, response headers, trailers including `-bin`
 * ones, error metadata, non-ASCII error messages, a stream that fails half
 * way, deadlines) reaches a real @connectrpc/connect-node client as it
 * reaches a grpc-js client. The fixture service `web.Probe`
 * (tests/fixtures/web) sets them; the demo sets none.
 * @module
 */
import assert from "node:assert/strict";
import { grpcClient, startSvc } from "./_harness.ts";
import {
  connectCall,
  errorView,
  grpcCall,
  HTTP_VERSIONS,
  loadRegistry,
  type Outcome,
  WEB_ENV,
  WEB_PROTOCOLS,
  webClients,
} from "./_connect.ts";

const PROTO = "tests/fixtures/web/proto/web.proto";
const CONFIG = "tests/fixtures/web/svc.yaml";

/** Echo's reply without the remaining deadline, which differs call to call. */
function withoutDeadline(o: Outcome): Outcome {
  const messages = o.messages.map((m) => ({ ...(m as object), deadlineInMs: "-" }));
  return { ...o, messages };
}

for (const version of HTTP_VERSIONS) {
  Deno.test(`web protocols over HTTP/${version}: metadata, errors and deadlines match gRPC`, async (t) => {
    const probe = (await loadRegistry(PROTO, "tests/fixtures/web/proto")).getService("web.Probe")!;
    await using svc = await startSvc({ config: CONFIG, env: WEB_ENV });
    const grpc = grpcClient([PROTO]).makeClient("web.Probe", svc.port);
    await using web = webClients(svc.port, version);
    try {
      const echoOptions = { headers: { "x-user": "ada", "x-trace-tag": "t1" } };
      const echo = await grpcCall(grpc, "echo", { message: "hi" }, echoOptions);
      // The reference itself: header, text and -bin trailers, request metadata echoed.
      assert.deepEqual(echo.headers, { "x-probe-header": "h-value" });
      assert.deepEqual(echo.trailers, {
        "x-probe-trailer": "t-value",
        "x-probe-trailer-bin": "bin:1,2,3,250",
      });
      assert.deepEqual((echo.messages[0] as { metadata: unknown }).metadata, echoOptions.headers);
      for (const protocol of WEB_PROTOCOLS) {
        await t.step(`${protocol}: request metadata, response headers and trailers`, async () => {
          const client = web.client(protocol, probe);
          const got = await connectCall(client, probe, "echo", { message: "hi" }, echoOptions);
          assert.deepEqual(withoutDeadline(got), withoutDeadline(echo));
        });
      }

      // Non-ASCII and % in the message: grpc-message percent-encodes, Connect sends JSON.
      const failRequest = { code: 5, message: "café ✓ 100% gone\tnow" };
      const fail = await grpcCall(grpc, "fail", failRequest);
      assert.deepEqual(fail.error, { code: 5, message: failRequest.message });
      assert.equal(fail.trailers["x-error-detail"], "why");
      for (const protocol of WEB_PROTOCOLS) {
        await t.step(`${protocol}: an error's code, message and metadata`, async () => {
          const got = await connectCall(web.client(protocol, probe), probe, "fail", failRequest);
          assert.deepEqual(errorView(got), errorView(fail));
        });
      }

      const stream = await grpcCall(grpc, "count", { count: 4 });
      assert.equal(stream.messages.length, 4);
      assert.deepEqual(stream.headers, { "x-probe-header": "h-stream" });
      assert.deepEqual(stream.trailers, { "x-probe-trailer": "t-stream" });
      for (const protocol of WEB_PROTOCOLS) {
        await t.step(`${protocol}: a stream's messages, header and trailer`, async () => {
          const got = await connectCall(web.client(protocol, probe), probe, "count", { count: 4 });
          assert.deepEqual(got, stream);
        });
      }

      // Fails after two replies. The messages are checked against the handler,
      // not grpc-js: its client on Deno can drop messages received just before
      // an error status (see e2e_test.ts), so it is no reference for them.
      const broken = await grpcCall(grpc, "count", { count: 5, failAfter: 2 });
      assert.deepEqual(broken.error, { code: 10, message: "stopped after 2" });
      for (const protocol of WEB_PROTOCOLS) {
        await t.step(`${protocol}: a stream that fails half way`, async () => {
          const client = web.client(protocol, probe);
          const got = await connectCall(client, probe, "count", { count: 5, failAfter: 2 });
          assert.deepEqual(
            got.messages.map((m) => (m as { message: string }).message),
            ["reply 0", "reply 1"],
          );
          assert.deepEqual(got.error, broken.error);
          assert.deepEqual(got.trailers, broken.trailers);
        });
      }

      for (const protocol of WEB_PROTOCOLS) {
        await t.step(
          `${protocol}: the client's timeout reaches the handler as its deadline`,
          async () => {
            const client = web.client(protocol, probe);
            const got = await connectCall(client, probe, "echo", { message: "d" }, {
              timeoutMs: 8_000,
            });
            assert.equal(got.error, null);
            const left = (got.messages[0] as { deadlineInMs: number }).deadlineInMs;
            assert.ok(left > 0 && left <= 8_000, `deadline seen by the handler: ${left} ms`);
          },
        );
        await t.step(`${protocol}: a deadline that passes is DEADLINE_EXCEEDED`, async () => {
          const started = Date.now();
          const client = web.client(protocol, probe);
          const got = await connectCall(client, probe, "sleep", { ms: 10_000 }, { timeoutMs: 300 });
          assert.equal(got.error?.code, 4, JSON.stringify(got.error));
          assert.ok(Date.now() - started < 5_000, "ended well before the handler's 10 s");
        });
      }
      // Every abandoned Sleep ended on the server, not only in the client.
      await t.step("the server ended every timed-out Sleep", async () => {
        const ended = () =>
          svc.logs().filter((l) => l.msg === "call" && l.method === "/web.Probe/Sleep");
        await svc.waitForLog(() => ended().length >= WEB_PROTOCOLS.length, 10_000);
        for (const line of ended()) {
          assert.ok(
            line.code === "DeadlineExceeded" || line.code === "Canceled",
            String(line.code),
          );
        }
      });
    } finally {
      grpc.close();
    }
  });
}
