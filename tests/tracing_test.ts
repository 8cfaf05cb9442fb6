/**
 * Tracing end to end, with real processes: a Python grpcio caller → an svc
 * frontend → `ctx.clients` → an svc backend (tests/fixtures/tracing), both
 * exporting OTLP/HTTP to a real receiver decoding with PyPI's official
 * opentelemetry-proto (tests/_otlp.ts). Checks the spans' parent links,
 * kinds, names, attributes and statuses, the headers passed on, the trace
 * ids in the logs, the samplers, `tracing.builtins`, the flush at SIGTERM
 * (and its bound when the collector hangs) and `svc_tracing_*` in /metrics.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { TELEMETRY_FLUSH_TIMEOUT_MS } from "../runtime/app/shutdown.ts";
import { parseExposition, promtoolCheck, valueOf } from "../runtime/metrics/_exposition.ts";
import {
  freePort,
  grpcClient,
  type GrpcTestClient,
  readAll,
  ROOT,
  startSvc,
  type SvcProcess,
  unary,
} from "./_harness.ts";
import {
  describeSpans,
  otlpProtoMissing,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from "./_otlp.ts";
import { pythonGrpcMissing, runPython } from "./_python.ts";

const FIXTURE = `${ROOT}/tests/fixtures/tracing`;
const chain = grpcClient([`${FIXTURE}/proto/chain.proto`]);
const health = grpcClient(["/usr/share/grpc-proto/grpc/health/v1/health.proto"]);

const skip = (await otlpProtoMissing()) ?? (await pythonGrpcMissing());
if (skip) console.log(`tracing_test: skipped: ${skip}`);

/** OTLP Span.flags: bit 8, "whether the parent is remote is known"; bit 9, "it is". */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const ZERO_TRACE = "0".repeat(32);

const TRACESTATE = "vendor=abc,other=1";
/** Two members, one with a property and one percent-encoded: passed on as they came. */
const BAGGAGE = "user.id=ada;src=py,tenant=acme%20corp";

/** What tests/python/trace_client.py prints. */
interface TraceClientResult {
  sent: { trace_id: string; span_id: string; traceparent: string; tracestate: string };
  reply?: { message: string; baggage: string; traceparent: string; tracestate: string };
  error?: { code: string; details: string };
}

/** chain.Frontend/Hello's reply: what the backend received. */
interface HelloReply {
  message: string;
  baggage: string;
  traceparent: string;
  tracestate: string;
}

/** The trace id of the unsampled call in the chain test, checked never to be exported. */
let unsampledTrace = "";

async function traceClient(port: number, args: string[] = []): Promise<TraceClientResult> {
  const [result] = await runPython("trace_client.py", ["--port", String(port), ...args]);
  return result as unknown as TraceClientResult;
}

function startBackend(receiver: OtlpReceiver, env: Record<string, string> = {}) {
  return startSvc({ config: `${FIXTURE}/backend.yaml`, env: { OTLP_URL: receiver.url, ...env } });
}

function startFrontend(
  receiver: OtlpReceiver,
  backendAddress: string,
  env: Record<string, string> = {},
) {
  return startSvc({
    config: `${FIXTURE}/frontend.yaml`,
    env: { OTLP_URL: receiver.url, BACKEND_ADDR: backendAddress, ...env },
  });
}

/** The one span `match` accepts; fails listing what arrived otherwise. */
function one(spans: ReceivedSpan[], what: string, match: (s: ReceivedSpan) => boolean) {
  const found = spans.filter(match);
  assert.equal(
    found.length,
    1,
    `${what}: ${found.length} spans match; got:\n${describeSpans(spans)}`,
  );
  return found[0];
}

/** The SERVER span of `method` (`pkg.Service/Method`) in `spans`, exactly one. */
function serverSpan(spans: ReceivedSpan[], method: string): ReceivedSpan {
  return one(spans, method, (s) => s.kind === "SPAN_KIND_SERVER" && s.name === method);
}

/** The attributes every SERVER span carries; `rpc.grpc.status_code` as an int. */
function assertServerAttributes(span: ReceivedSpan, svc: SvcProcess, code: number): void {
  const [service, method] = span.name.split("/");
  const a = span.attributes;
  assert.equal(a["rpc.system"], "grpc", span.name);
  assert.equal(a["rpc.service"], service, span.name);
  assert.equal(a["rpc.method"], method, span.name);
  assert.equal(a["rpc.grpc.status_code"], code, span.name);
  assert.equal(span.attribute_types["rpc.grpc.status_code"], "int_value", span.name);
  assert.equal(a["server.address"], "127.0.0.1", span.name);
  assert.equal(a["server.port"], svc.port, span.name);
  assert.equal(span.attribute_types["server.port"], "int_value", span.name);
  assert.match(String(a["network.peer.address"]), /^(::ffff:)?127\.0\.0\.1$/, span.name);
  assert.ok(
    Number.isInteger(a["network.peer.port"]) && (a["network.peer.port"] as number) > 0,
    `${span.name}: network.peer.port ${a["network.peer.port"]}`,
  );
  assert.equal(span.scope.name, "svc", span.name);
  assert.ok(span.start_ns > 0 && span.end_ns >= span.start_ns, span.name);
}

/** `child` lies within `parent` in time (same process, same clock). */
function assertWithin(child: ReceivedSpan, parent: ReceivedSpan): void {
  assert.ok(
    parent.start_ns <= child.start_ns && child.end_ns <= parent.end_ns,
    `${child.name} [${child.start_ns}, ${child.end_ns}] outside ${parent.name} ` +
      `[${parent.start_ns}, ${parent.end_ns}]`,
  );
}

/** The access-log line of the `nth` call (from 0) to `method` (`/pkg.Service/Method`). */
async function accessLine(
  svc: SvcProcess,
  method: string,
  nth = 0,
): Promise<Record<string, unknown>> {
  const lines = () => svc.logs().filter((l) => l.msg === "call" && l.method === method);
  await svc.waitForLog(() => lines().length > nth);
  return lines()[nth];
}

/** Polls /metrics until `ready` accepts its samples; bounded by 10 s. */
async function metricsWhen(
  svc: SvcProcess,
  ready: (samples: ReturnType<typeof parseExposition>) => boolean,
): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`, {
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (ready(parseExposition(text)) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function callError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => assert.fail("expected the call to fail"),
    (error: grpc.ServiceError) => error,
  );
}

function clientStream(client: GrpcTestClient, names: string[]): Promise<{ message: string }> {
  return new Promise((resolve, reject) => {
    const call = client.collect(
      { deadline: Date.now() + 10_000 },
      (err: Error | null, res: { message: string }) => err ? reject(err) : resolve(res),
    );
    for (const name of names) call.write({ name });
    call.end();
  });
}

Deno.test({
  name: "tracing: a Python caller → frontend → ctx.clients → backend is one trace, linked right",
  ignore: skip !== null,
  async fn(t) {
    await using receiver = await startOtlpReceiver();
    await using backend = await startBackend(receiver);
    await using frontend = await startFrontend(receiver, `127.0.0.1:${backend.port}`);
    const client = chain.makeClient("chain.Frontend", frontend.port);
    const probe = health.makeClient("grpc.health.v1.Health", frontend.port);
    try {
      await t.step("the caller's trace: SERVER → lookup → CLIENT → backend SERVER", async () => {
        const result = await traceClient(frontend.port, [
          "--tracestate",
          TRACESTATE,
          "--baggage",
          BAGGAGE,
        ]);
        const { sent, reply } = result;
        assert.ok(reply, JSON.stringify(result));
        assert.equal(reply.message, "hello ada");

        const spans = (await receiver.waitForSpans(
          (got) => got.filter((s) => s.trace_id === sent.trace_id).length >= 4,
        )).filter((s) => s.trace_id === sent.trace_id);
        assert.equal(spans.length, 4, describeSpans(spans));

        const server = serverSpan(spans, "chain.Frontend/Hello");
        const lookup = one(spans, "lookup", (s) => s.name === "lookup");
        const out = one(spans, "CLIENT", (s) => s.kind === "SPAN_KIND_CLIENT");
        const echo = serverSpan(spans, "chain.Backend/Echo");

        // The frontend's SERVER span: a child of the Python caller's span, a remote parent.
        assert.equal(server.parent_span_id, sent.span_id);
        assert.equal(server.flags, 0x01 | HAS_IS_REMOTE | IS_REMOTE);
        assert.equal(server.trace_state, TRACESTATE);
        assert.deepEqual(server.status, { code: "STATUS_CODE_UNSET", message: "" });
        assertServerAttributes(server, frontend, grpc.status.OK);
        assert.equal(server.attributes["fixture.user"], "ada", "ctx.span.setAttribute");
        assert.equal(server.resource["service.name"], "frontend");
        assert.equal(server.resource["service.version"], "1.0.0");

        // The handler's own span, from @opentelemetry/api: a local child of the call's.
        assert.equal(lookup.kind, "SPAN_KIND_INTERNAL");
        assert.equal(lookup.parent_span_id, server.span_id);
        assert.equal(lookup.flags, 0x01 | HAS_IS_REMOTE);
        assert.equal(lookup.trace_state, TRACESTATE);
        assert.equal(lookup.scope.name, "fixture", "the scope of the tracer that made it");
        assert.equal(lookup.resource["service.name"], "frontend");
        assert.deepEqual(lookup.status, { code: "STATUS_CODE_UNSET", message: "" });
        assertWithin(lookup, server);

        // ctx.clients' CLIENT span: a child of the span active around the call.
        assert.equal(out.name, "chain.Backend/Echo");
        assert.equal(out.parent_span_id, lookup.span_id);
        assert.equal(out.flags, 0x01 | HAS_IS_REMOTE);
        assert.equal(out.trace_state, TRACESTATE);
        assert.equal(out.resource["service.name"], "frontend");
        assert.equal(out.scope.name, "svc");
        assert.deepEqual(out.status, { code: "STATUS_CODE_UNSET", message: "" });
        assert.equal(out.attributes["rpc.system"], "grpc");
        assert.equal(out.attributes["rpc.service"], "chain.Backend");
        assert.equal(out.attributes["rpc.method"], "Echo");
        assert.equal(out.attributes["rpc.grpc.status_code"], grpc.status.OK);
        assert.equal(out.attribute_types["rpc.grpc.status_code"], "int_value");
        assert.equal(out.attributes["server.address"], "127.0.0.1");
        assert.equal(out.attributes["server.port"], backend.port);
        assertWithin(out, lookup);

        // The backend's SERVER span: a child of the CLIENT span, across processes.
        assert.equal(echo.parent_span_id, out.span_id);
        assert.equal(echo.flags, 0x01 | HAS_IS_REMOTE | IS_REMOTE);
        assert.equal(echo.trace_state, TRACESTATE);
        assertServerAttributes(echo, backend, grpc.status.OK);
        assert.equal(echo.resource["service.name"], "backend");
        assert.equal(echo.resource["service.version"], "2.0.0");
        assert.notEqual(
          echo.resource["service.instance.id"],
          server.resource["service.instance.id"],
        );

        // What the backend received: the CLIENT span's context, the tracestate and the baggage.
        assert.equal(reply.traceparent, `00-${sent.trace_id}-${out.span_id}-01`);
        assert.equal(reply.tracestate, TRACESTATE);
        assert.equal(reply.baggage, BAGGAGE);

        // The frontend's access-log line and the handler's ctx.log line join the trace.
        const access = await accessLine(frontend, "/chain.Frontend/Hello");
        assert.equal(access.trace_id, server.trace_id);
        assert.equal(access.span_id, server.span_id);
        const logged = await frontend.waitForLog((l) => l.msg === "hello" && l.user === "ada");
        assert.equal(logged.trace_id, server.trace_id);
        assert.equal(logged.span_id, server.span_id);
        const backendAccess = await accessLine(backend, "/chain.Backend/Echo");
        assert.equal(backendAccess.trace_id, echo.trace_id);
        assert.equal(backendAccess.span_id, echo.span_id);
      });

      await t.step("a call without traceparent starts a new trace", async () => {
        const reply = await unary<HelloReply>(client, "hello", { name: "bo" });
        const [, traceId, clientSpanId, flags] = reply.traceparent.split("-");
        assert.equal(flags, "01");
        assert.equal(reply.baggage, "");
        assert.equal(reply.tracestate, "");
        const spans = (await receiver.waitForSpans(
          (got) => got.filter((s) => s.trace_id === traceId).length >= 4,
        )).filter((s) => s.trace_id === traceId);
        const server = serverSpan(spans, "chain.Frontend/Hello");
        assert.equal(server.parent_span_id, "", "a root span");
        assert.equal(server.flags, 0x01 | HAS_IS_REMOTE, "no remote parent");
        assert.equal(server.trace_state, "");
        assert.equal(server.attributes["fixture.user"], "bo");
        const lookup = one(spans, "lookup", (s) => s.name === "lookup");
        assert.equal(lookup.parent_span_id, server.span_id);
        const out = one(spans, "CLIENT", (s) => s.kind === "SPAN_KIND_CLIENT");
        assert.equal(out.span_id, clientSpanId);
        assert.equal(out.parent_span_id, lookup.span_id);
        assert.equal(serverSpan(spans, "chain.Backend/Echo").parent_span_id, out.span_id);
        const access = await accessLine(frontend, "/chain.Frontend/Hello", 1);
        assert.equal(access.trace_id, traceId);
        assert.equal(access.span_id, server.span_id);
      });

      let unsampled: TraceClientResult | null = null;
      await t.step(
        "an unsampled caller (flags 00): not sampled here nor at the backend",
        async () => {
          unsampled = await traceClient(frontend.port, ["--flags", "00", "--name", "eve"]);
          const { sent, reply } = unsampled;
          assert.ok(reply, JSON.stringify(unsampled));
          const [version, traceId, spanId, flags] = reply.traceparent.split("-");
          assert.equal(version, "00");
          assert.match(traceId, /^[0-9a-f]{32}$/);
          assert.notEqual(spanId, sent.span_id);
          assert.equal(flags, "00", "the backend is told the trace is not sampled");
          // The logs still join the caller's trace.
          const access = await accessLine(frontend, "/chain.Frontend/Hello", 2);
          assert.equal(access.trace_id, sent.trace_id);
          const logged = await frontend.waitForLog((l) => l.msg === "hello" && l.user === "eve");
          assert.equal(logged.trace_id, sent.trace_id);
          assert.equal(logged.span_id, access.span_id);
          unsampledTrace = sent.trace_id; // never exported: checked once later spans arrived
        },
      );

      await t.step({
        name: "an unsampled caller's trace id reaches the backend through a handler's span",
        fn: async () => {
          assert.ok(unsampled?.reply);
          const { sent, reply } = unsampled;
          assert.equal(reply.traceparent.split("-")[1], sent.trace_id, reply.traceparent);
          const backendAccess = await accessLine(backend, "/chain.Backend/Echo", 2);
          assert.equal(backendAccess.trace_id, sent.trace_id);
        },
      });

      await t.step(
        "all four call kinds, error codes and a rate-limited call get SERVER spans",
        async () => {
          // Health first: once the spans of the calls after it arrived, its absence means something.
          assert.deepEqual(await unary(probe, "check", { service: "" }), { status: "SERVING" });
          const streamed = await readAll<{ message: string }>(client.count({ count: 3 }));
          assert.equal(streamed.length, 3);
          assert.equal((await clientStream(client, ["a", "b"])).message, "a,b");
          const chat = client.chat();
          const chatted = readAll<{ message: string }>(chat);
          for (const name of ["x", "y"]) chat.write({ name });
          chat.end();
          assert.deepEqual((await chatted).map((r) => r.message), ["hi x", "hi y"]);
          const unavailable = await callError(
            unary(client, "fail", { code: grpc.status.UNAVAILABLE, message: "backend down" }),
          );
          assert.equal(unavailable.code, grpc.status.UNAVAILABLE);
          const notFound = await callError(
            unary(client, "fail", { code: grpc.status.NOT_FOUND, message: "no such user" }),
          );
          assert.equal(notFound.code, grpc.status.NOT_FOUND);
          await unary(client, "limited", { name: "first" });
          const limited = await callError(unary(client, "limited", { name: "second" }));
          assert.equal(limited.code, grpc.status.RESOURCE_EXHAUSTED);

          const spans = await receiver.waitForSpans((got) =>
            got.filter((s) => s.name === "chain.Frontend/Limited").length === 2 &&
            got.filter((s) => s.name === "chain.Frontend/Fail").length === 2 &&
            ["Count", "Collect", "Chat"].every((m) =>
              got.some((s) => s.name === `chain.Frontend/${m}`)
            )
          );
          for (const method of ["Count", "Collect", "Chat"]) {
            const span = serverSpan(spans, `chain.Frontend/${method}`);
            assertServerAttributes(span, frontend, grpc.status.OK);
            assert.deepEqual(span.status, { code: "STATUS_CODE_UNSET", message: "" }, method);
            assert.equal(span.parent_span_id, "", method);
          }
          const fails = spans.filter((s) => s.name === "chain.Frontend/Fail");
          const failed = one(
            fails,
            "Fail UNAVAILABLE",
            (s) => s.attributes["rpc.grpc.status_code"] === grpc.status.UNAVAILABLE,
          );
          assertServerAttributes(failed, frontend, grpc.status.UNAVAILABLE);
          // UNAVAILABLE is the server's fault: ERROR, with the message the client got.
          assert.deepEqual(failed.status, { code: "STATUS_CODE_ERROR", message: "backend down" });
          assert.deepEqual(failed.events, [], "a deliberate RpcError is no exception");
          const missing = one(
            fails,
            "Fail NOT_FOUND",
            (s) => s.attributes["rpc.grpc.status_code"] === grpc.status.NOT_FOUND,
          );
          assertServerAttributes(missing, frontend, grpc.status.NOT_FOUND);
          // NOT_FOUND is the caller's: the server's span stays UNSET.
          assert.deepEqual(missing.status, { code: "STATUS_CODE_UNSET", message: "" });
          const limits = spans.filter((s) => s.name === "chain.Frontend/Limited");
          assert.deepEqual(
            limits.map((s) => s.attributes["rpc.grpc.status_code"]).sort(),
            [grpc.status.OK, grpc.status.RESOURCE_EXHAUSTED],
          );
          const refused = limits.find((s) =>
            s.attributes["rpc.grpc.status_code"] === grpc.status.RESOURCE_EXHAUSTED
          )!;
          assertServerAttributes(refused, frontend, grpc.status.RESOURCE_EXHAUSTED);
          assert.deepEqual(refused.status, { code: "STATUS_CODE_UNSET", message: "" });
          const refusedLine = await frontend.waitForLog((l) =>
            l.msg === "call" && l.method === "/chain.Frontend/Limited" &&
            l.code === "ResourceExhausted"
          );
          assert.equal(refusedLine.trace_id, refused.trace_id);
          assert.equal(refusedLine.span_id, refused.span_id);

          assert.ok(
            !spans.some((s) => s.name.startsWith("grpc.health.v1.Health/")),
            `health is not traced by default:\n${describeSpans(spans)}`,
          );
          const healthLine = await accessLine(frontend, "/grpc.health.v1.Health/Check");
          assert.equal(healthLine.trace_id, undefined, "an untraced call's line has no trace id");
          assert.ok(
            !spans.some((s) =>
              s.trace_id === unsampledTrace || s.attributes["fixture.user"] === "eve"
            ),
            `the unsampled call was recorded:\n${describeSpans(spans)}`,
          );
          // The backend served three calls and recorded the two sampled ones.
          assert.equal(
            spans.filter((s) => s.name === "chain.Backend/Echo" && s.kind === "SPAN_KIND_SERVER")
              .length,
            2,
            describeSpans(spans),
          );
        },
      );

      await t.step({
        name: "a tracer handler code got at import time records too",
        fn: async () => {
          const spans = await receiver.waitForSpans((got) =>
            got.filter((s) => s.name === "count.item").length >= 3
          );
          const count = serverSpan(spans, "chain.Frontend/Count");
          const items = spans.filter((s) => s.name === "count.item");
          assert.equal(items.length, 3, describeSpans(spans));
          for (const item of items) {
            assert.equal(item.kind, "SPAN_KIND_INTERNAL");
            assert.equal(item.trace_id, count.trace_id);
            assert.equal(item.parent_span_id, count.span_id);
          }
          assert.deepEqual(items.map((s) => s.attributes["fixture.item"]).sort(), [0, 1, 2]);
        },
      });

      await t.step("/metrics counts the exported spans and passes promtool", async () => {
        // Every frontend span has arrived (above); the counter follows the collector's reply.
        const received = (await receiver.spans())
          .filter((s) => s.resource["service.name"] === "frontend").length;
        const exported = (samples: ReturnType<typeof parseExposition>) =>
          valueOf(samples, "svc_tracing_spans_exported_total", {});
        const text = await metricsWhen(frontend, (samples) => exported(samples) === received);
        const samples = parseExposition(text);
        assert.ok(received >= 11, `${received} frontend spans`);
        assert.equal(exported(samples), received, "svc_tracing_spans_exported_total");
        assert.equal(valueOf(samples, "svc_tracing_export_failures_total", {}), 0);
        for (const reason of ["queue_full", "export_failed"]) {
          assert.equal(valueOf(samples, "svc_tracing_spans_dropped_total", { reason }), 0, reason);
        }
        assert.equal(valueOf(samples, "svc_tracing_queued_spans", {}), 0);
        const verdict = await promtoolCheck(text);
        assert.equal(verdict.code, 0, `promtool check metrics:\n${verdict.output}`);
      });
    } finally {
      client.close();
      probe.close();
    }
  },
});

Deno.test({
  name:
    "tracing: tracing.builtins traces health; a failed ctx.clients call is an ERROR CLIENT span",
  ignore: skip !== null,
  async fn() {
    await using receiver = await startOtlpReceiver();
    // Nothing listens at the backend's address: the outgoing call fails UNAVAILABLE.
    await using frontend = await startFrontend(receiver, `127.0.0.1:${freePort()}`, {
      SVC_TRACING_BUILTINS: "true",
    });
    const client = chain.makeClient("chain.Frontend", frontend.port);
    const probe = health.makeClient("grpc.health.v1.Health", frontend.port);
    try {
      assert.deepEqual(await unary(probe, "check", { service: "" }), { status: "SERVING" });
      const error = await callError(unary(client, "hello", { name: "cy" }));
      assert.equal(error.code, grpc.status.UNAVAILABLE, error.details);
    } finally {
      client.close();
      probe.close();
    }
    const spans = await receiver.waitForSpans((got) =>
      got.some((s) => s.name === "grpc.health.v1.Health/Check") &&
      got.some((s) => s.name === "chain.Frontend/Hello")
    );
    const check = serverSpan(spans, "grpc.health.v1.Health/Check");
    assertServerAttributes(check, frontend, grpc.status.OK);
    assert.deepEqual(check.status, { code: "STATUS_CODE_UNSET", message: "" });

    const trace = spans.filter((s) =>
      s.trace_id === serverSpan(spans, "chain.Frontend/Hello").trace_id
    );
    const server = serverSpan(trace, "chain.Frontend/Hello");
    const out = one(trace, "CLIENT", (s) => s.kind === "SPAN_KIND_CLIENT");
    assert.equal(out.name, "chain.Backend/Echo");
    assert.equal(out.attributes["rpc.grpc.status_code"], grpc.status.UNAVAILABLE);
    assert.equal(out.status.code, "STATUS_CODE_ERROR");
    assert.ok(out.status.message !== "", "the CLIENT span's status has the message");
    // The handler let the error through: the call ends UNAVAILABLE, the server's fault.
    assertServerAttributes(server, frontend, grpc.status.UNAVAILABLE);
    assert.equal(server.status.code, "STATUS_CODE_ERROR");
  },
});

Deno.test({
  name:
    "tracing: with OTEL_TRACES_SAMPLER=always_off nothing is exported, yet logs carry trace ids and the backend gets flags 00",
  ignore: skip !== null,
  async fn(t) {
    await using receiver = await startOtlpReceiver();
    const backend = await startBackend(receiver);
    try {
      const frontend = await startFrontend(receiver, `127.0.0.1:${backend.port}`, {
        OTEL_TRACES_SAMPLER: "always_off",
      });
      let plain: HelloReply;
      let python: TraceClientResult;
      try {
        const client = chain.makeClient("chain.Frontend", frontend.port);
        try {
          plain = await unary<HelloReply>(client, "hello", { name: "di" });
        } finally {
          client.close();
        }
        python = await traceClient(frontend.port, ["--baggage", BAGGAGE]);
      } finally {
        // SIGTERM flushes: whatever either had queued would reach the receiver now.
        assert.equal((await frontend.stop()).code, 0);
      }
      assert.equal((await backend.stop()).code, 0);

      // A call that brought no trace context: a new trace id, in both services' logs.
      const access = await accessLine(frontend, "/chain.Frontend/Hello", 0);
      assert.match(String(access.trace_id), /^[0-9a-f]{32}$/);
      assert.notEqual(access.trace_id, ZERO_TRACE);
      assert.match(String(access.span_id), /^[0-9a-f]{16}$/);
      const [, traceId, , flags] = plain.traceparent.split("-");
      assert.equal(flags, "00", `the backend got ${plain.traceparent}`);
      await t.step({
        name: "the backend is called in the frontend's (new, unsampled) trace",
        fn: async () => {
          assert.equal(traceId, access.trace_id, plain.traceparent);
          const backendAccess = await accessLine(backend, "/chain.Backend/Echo", 0);
          assert.equal(backendAccess.trace_id, access.trace_id);
        },
      });

      // A sampled caller: always_off does not record it either, but passes its trace id on.
      assert.ok(python.reply, JSON.stringify(python));
      assert.equal(python.reply.traceparent.split("-")[1], python.sent.trace_id);
      assert.equal(python.reply.traceparent.split("-")[3], "00");
      assert.equal(python.reply.baggage, BAGGAGE);
      assert.equal(
        (await accessLine(frontend, "/chain.Frontend/Hello", 1)).trace_id,
        python.sent.trace_id,
      );
      assert.equal(
        (await accessLine(backend, "/chain.Backend/Echo", 1)).trace_id,
        python.sent.trace_id,
      );

      const stats = await receiver.stats();
      assert.deepEqual(stats, { requests: 0, spans: 0 }, describeSpans(await receiver.spans()));
    } finally {
      await backend.stop();
    }
  },
});

Deno.test({
  name: "tracing: SIGTERM flushes spans still queued (OTEL_BSP_SCHEDULE_DELAY=60000)",
  ignore: skip !== null,
  async fn() {
    await using receiver = await startOtlpReceiver();
    await using backend = await startSvc({
      config: `${FIXTURE}/backend.yaml`,
      env: {
        // The standard variables: a base URL (…/v1/traces appended), a long delay, a header.
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: "60000",
        OTEL_EXPORTER_OTLP_HEADERS: "x-tenant=t1",
      },
    });
    const client = chain.makeClient("chain.Backend", backend.port);
    try {
      for (let i = 0; i < 3; i++) await unary(client, "echo", { text: `m${i}` });
    } finally {
      client.close();
    }
    // Held by the 60 s delay: queued, nothing sent.
    const text = await metricsWhen(
      backend,
      (samples) => valueOf(samples, "svc_tracing_queued_spans", {}) === 3,
    );
    assert.equal(valueOf(parseExposition(text), "svc_tracing_queued_spans", {}), 3, text);
    assert.equal((await receiver.stats()).requests, 0);

    const signalled = performance.now();
    const status = await backend.stop();
    const ms = performance.now() - signalled;
    assert.equal(status.code, 0, backend.stderr());
    assert.ok(ms < 5_000, `exit took ${ms} ms`);
    const spans = await receiver.waitForSpans((got) => got.length >= 3, 1_000);
    assert.equal(spans.length, 3, describeSpans(spans));
    for (const span of spans) {
      assert.equal(span.name, "chain.Backend/Echo");
      assert.equal(span.headers["x-tenant"], "t1");
      assert.equal(span.resource["service.name"], "backend");
    }
  },
});

Deno.test({
  name:
    "tracing: with a collector that never answers, SIGTERM still exits 0 after the flush's bound",
  ignore: skip !== null,
  async fn(t) {
    await using receiver = await startOtlpReceiver({ mode: "slow", delayMs: 30_000 });
    await using backend = await startBackend(receiver);
    const client = chain.makeClient("chain.Backend", backend.port);
    try {
      await unary(client, "echo", { text: "first" });
      // Its export is in flight, unanswered, when more spans queue behind it.
      const deadline = Date.now() + 10_000;
      while ((await receiver.stats()).requests === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await receiver.stats()).requests, 1);
      for (let i = 0; i < 3; i++) await unary(client, "echo", { text: `m${i}` });
    } finally {
      client.close();
    }
    const signalled = performance.now();
    const status = await backend.stop();
    const ms = performance.now() - signalled;
    assert.equal(status.code, 0, backend.stderr());
    // drainDelay 0, no call in flight: the flush's bound and the exit; well within 5 s.
    assert.ok(ms < 5_000, `exit took ${ms} ms`);
    assert.ok(
      ms >= TELEMETRY_FLUSH_TIMEOUT_MS * 0.8,
      `exit took only ${ms} ms: did the flush wait for the collector at all?`,
    );
    await t.step({
      name: "the spans lost at exit are logged",
      fn: () => {
        assert.ok(
          backend.logs().some((l) => l.level === "warn" && l.component === "tracing"),
          backend.stderr(),
        );
      },
    });
  },
});
