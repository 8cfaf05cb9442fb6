/**
 * The OTLP/HTTP receiver the tracing tests read svc's spans from
 * (tests/_otlp.ts, tests/python/otlp_receiver.py), tested on its own so a
 * tracing test failure is svc's and not the harness's. The client is
 * tests/python/otlp_send.py, which builds its requests with the same official
 * opentelemetry-proto classes; the slow, refuse and error400 modes are
 * probed with plain fetch POSTs of those bytes.
 * @module
 */
import assert from "node:assert/strict";
import { freePort, ROOT } from "./_harness.ts";
import {
  OTLP_PYTHONPATH,
  otlpProtoMissing,
  type ReceivedSpan,
  startOtlpReceiver,
} from "./_otlp.ts";
import { PYTHON } from "./_python.ts";

const skip = await otlpProtoMissing();
if (skip) console.log(`otlp_receiver_test: skipped: ${skip}`);

/** What otlp_send.py put in its request (see its doc string). */
interface Sent {
  trace_id: string;
  server_span_id: string;
  client_span_id: string;
  link_trace_id: string;
  link_span_id: string;
  start_ns: number;
  end_ns: number;
}

/** otlp_send.py's one JSON line. */
interface SendResult {
  status?: number;
  content_type?: string;
  body_hex: string;
  sent: Sent;
}

/** Runs tests/python/otlp_send.py with opentelemetry-proto importable; bounded to 30 s. */
async function otlpSend(args: string[]): Promise<SendResult> {
  const child = new Deno.Command(PYTHON, {
    args: [`${ROOT}/tests/python/otlp_send.py`, ...args],
    env: { PYTHONPATH: OTLP_PYTHONPATH },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const { code, stdout, stderr } = await child.output();
    const text = new TextDecoder().decode(stdout);
    if (code !== 0) {
      throw new Error(`otlp_send.py exited ${code}: ${new TextDecoder().decode(stderr)}\n${text}`);
    }
    return JSON.parse(text);
  } finally {
    clearTimeout(timer);
  }
}

/** A serialized ExportTraceServiceRequest with otlp_send.py's two spans, for fetch. */
async function requestBody(): Promise<{ body: Uint8Array<ArrayBuffer>; sent: Sent }> {
  const { body_hex, sent } = await otlpSend(["--print-body"]);
  const body = new Uint8Array(body_hex.match(/../g)!.map((h) => parseInt(h, 16)));
  return { body, sent };
}

/** POSTs `body` as OTLP protobuf; resolves with the status and the body read to its end. */
async function post(
  url: string,
  body: BodyInit,
  init: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; contentType: string | null; text: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/x-protobuf", ...init.headers },
    signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text,
    ms: performance.now() - started,
  };
}

/** Both of otlp_send.py's spans, once they arrived. */
function bothSpans(sent: Sent) {
  return (spans: ReceivedSpan[]) => spans.filter((s) => s.trace_id === sent.trace_id).length === 2;
}

Deno.test({
  name:
    "otlp receiver: decodes an ExportTraceServiceRequest into flat spans with resource, scope and headers",
  ignore: skip !== null,
  async fn() {
    await using receiver = await startOtlpReceiver();
    assert.equal(receiver.url, `http://127.0.0.1:${receiver.port}`);
    assert.equal(receiver.tracesUrl, `${receiver.url}/v1/traces`);

    const result = await otlpSend([
      "--endpoint",
      receiver.tracesUrl,
      "--header",
      "x-tenant=t1",
    ]);
    // OTLP/HTTP's success reply: 200, protobuf, an empty ExportTraceServiceResponse.
    assert.equal(result.status, 200);
    assert.equal(result.content_type, "application/x-protobuf");
    assert.equal(result.body_hex, "");

    const { sent } = result;
    // The spans are flushed before the reply, so they are there already.
    const spans = await receiver.spans();
    assert.equal(spans.length, 2, JSON.stringify(spans));
    const [server, client] = spans;

    assert.equal(server.trace_id, sent.trace_id);
    assert.equal(server.span_id, sent.server_span_id);
    assert.equal(server.parent_span_id, "");
    assert.equal(server.name, "GET /items");
    assert.equal(server.kind, "SPAN_KIND_SERVER");
    // Nanosecond times beyond 2^53 arrive rounded, never by more than 256 ns.
    assert.ok(Math.abs(server.start_ns - sent.start_ns) <= 256, `${server.start_ns}`);
    assert.ok(Math.abs(server.end_ns - sent.end_ns) <= 256, `${server.end_ns}`);
    assert.deepEqual(server.attributes, {
      "http.request.method": "GET",
      "http.response.status_code": 500,
      ratio: 0.25,
      cached: false,
      tags: ["a", "b"],
      ports: [1, 2],
      nested: { k: "v", n: 1 },
      raw: "AAH/", // base64 of 00 01 ff, as OTLP/JSON writes bytes
    });
    assert.equal(server.attribute_types["http.response.status_code"], "int_value");
    assert.equal(server.attribute_types.ratio, "double_value");
    assert.equal(server.attribute_types.cached, "bool_value");
    assert.deepEqual(server.events.map((e) => [e.name, e.attributes]), [
      ["exception", { "exception.type": "Boom", "exception.message": "it broke" }],
    ]);
    assert.ok(Math.abs(server.events[0].time_ns - (sent.start_ns + 1_000)) <= 256);
    assert.deepEqual(server.status, { code: "STATUS_CODE_ERROR", message: "it broke" });
    assert.deepEqual(server.links, []);

    assert.equal(client.trace_id, sent.trace_id);
    assert.equal(client.span_id, sent.client_span_id);
    assert.equal(client.parent_span_id, sent.server_span_id);
    assert.equal(client.kind, "SPAN_KIND_CLIENT");
    assert.equal(client.trace_state, "vendor=abc");
    assert.equal(client.flags, 0x101);
    assert.deepEqual(client.links, [{
      trace_id: sent.link_trace_id,
      span_id: sent.link_span_id,
      attributes: { "link.reason": "retry" },
    }]);
    assert.deepEqual(client.status, { code: "STATUS_CODE_OK", message: "" });

    for (const span of spans) {
      assert.deepEqual(span.resource, {
        "service.name": "otlp-send",
        "service.instance.id": "i-1",
      });
      assert.deepEqual(span.scope, { name: "otlp_send", version: "1.2.3" });
      assert.equal(span.headers["content-type"], "application/x-protobuf");
      assert.equal(span.headers["user-agent"], "otlp_send.py");
      assert.equal(span.headers["x-tenant"], "t1");
    }
    assert.deepEqual(await receiver.stats(), { requests: 1, spans: 2 });
  },
});

Deno.test({
  name: "otlp receiver: gunzips a Content-Encoding: gzip body",
  ignore: skip !== null,
  async fn() {
    await using receiver = await startOtlpReceiver();
    const { status, sent } = await otlpSend(["--endpoint", receiver.tracesUrl, "--gzip"]);
    assert.equal(status, 200);
    const spans = await receiver.waitForSpans(bothSpans(sent), 5_000);
    assert.deepEqual(spans.map((s) => s.name), ["GET /items", "SELECT items"]);
    assert.equal(spans[0].headers["content-encoding"], "gzip");
  },
});

Deno.test({
  name:
    "otlp receiver: answers 400 to a body that is not an ExportTraceServiceRequest, 415 and 404 to the wrong type and path",
  ignore: skip !== null,
  async fn() {
    await using receiver = await startOtlpReceiver();
    // "n" opens a field with wire type 6, which protobuf does not have.
    const garbage = await post(receiver.tracesUrl, "not protobuf");
    assert.equal(garbage.status, 400, garbage.text);
    assert.match(garbage.text, /ExportTraceServiceRequest/);
    const badGzip = await post(receiver.tracesUrl, "not gzip", {
      headers: { "content-encoding": "gzip" },
    });
    assert.equal(badGzip.status, 400, badGzip.text);

    const { body } = await requestBody();
    const json = await post(receiver.tracesUrl, body, {
      headers: { "content-type": "application/json" },
    });
    assert.equal(json.status, 415, json.text);
    const elsewhere = await post(`${receiver.url}/v1/metrics`, body);
    assert.equal(elsewhere.status, 404, elsewhere.text);

    // /v1/metrics is no traces request; the other three are.
    assert.deepEqual(await receiver.stats(), { requests: 3, spans: 0 });
    assert.deepEqual(await receiver.spans(), []);
  },
});

Deno.test({
  name: "otlp receiver: slow mode replies after its delay and records the spans only then",
  ignore: skip !== null,
  async fn() {
    // Long enough that the checks made while the replies are pending finish
    // well inside it, even on a loaded machine.
    const delayMs = 2_500;
    await using receiver = await startOtlpReceiver({ mode: "slow", delayMs });
    const { body, sent } = await requestBody();

    // Two exporters at once: a patient one, and one whose timeout is
    // shorter than the receiver's delay and gives up.
    const patient = post(receiver.tracesUrl, body, { timeoutMs: delayMs + 10_000 });
    patient.catch(() => {}); // Awaited below; a failed check before that must not also reject unhandled.
    await assert.rejects(
      post(receiver.tracesUrl, body, { timeoutMs: 300 }),
      (e: unknown) => e instanceof DOMException && e.name === "TimeoutError",
    );
    // The receiver has both requests, but records nothing before it replies.
    const deadline = Date.now() + 2_000;
    while ((await receiver.stats()).requests < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await receiver.stats(), { requests: 2, spans: 0 });

    const reply = await patient;
    assert.equal(reply.status, 200);
    assert.ok(reply.ms >= delayMs - 50, `replied after ${reply.ms} ms`);
    // The abandoned request's spans are recorded too, when its (unread) reply goes out.
    const spans = await receiver.waitForSpans((s) => s.length === 4, 5_000);
    assert.ok(bothSpans(sent)(spans.slice(0, 2)) && bothSpans(sent)(spans.slice(2)));
    assert.deepEqual(await receiver.stats(), { requests: 2, spans: 4 });
  },
});

Deno.test({
  name:
    "otlp receiver: refuse mode answers 503 and error400 mode 400, recording nothing but the request",
  ignore: skip !== null,
  async fn() {
    const { body } = await requestBody();
    for (const [mode, status] of [["refuse", 503], ["error400", 400]] as const) {
      await using receiver = await startOtlpReceiver({ mode });
      const reply = await post(receiver.tracesUrl, body);
      assert.equal(reply.status, status, `${mode}: ${reply.text}`);
      assert.ok(reply.text.length > 0, `${mode}: empty body`);
      assert.deepEqual(await receiver.stats(), { requests: 1, spans: 0 }, mode);
      assert.deepEqual(await receiver.spans(), [], mode);
    }
  },
});

Deno.test({
  name: "otlp receiver: listens on a chosen port, and stop() frees it and may be called twice",
  ignore: skip !== null,
  async fn() {
    const port = freePort();
    const receiver = await startOtlpReceiver({ port });
    try {
      assert.equal(receiver.port, port);
      assert.deepEqual(await receiver.stats(), { requests: 0, spans: 0 });
    } finally {
      await receiver.stop();
    }
    await receiver.stop();
    await assert.rejects(
      fetch(`http://127.0.0.1:${port}/stats`, { signal: AbortSignal.timeout(5_000) }),
      TypeError, // connection refused
    );
  },
});

Deno.test({
  name: "otlp receiver: waitForSpans gives up after its timeout, listing what arrived",
  ignore: skip !== null,
  async fn() {
    await using receiver = await startOtlpReceiver();
    const { sent } = await otlpSend(["--endpoint", receiver.tracesUrl]);
    const error = await receiver.waitForSpans((s) => s.some((x) => x.name === "never"), 300)
      .then(() => null, (e: unknown) => e);
    assert.ok(error instanceof Error, "waitForSpans resolved");
    assert.match(error.message, /within 300 ms/);
    assert.match(error.message, /1 request\(s\), 2 span\(s\)/);
    assert.ok(
      error.message.includes(`GET /items SPAN_KIND_SERVER STATUS_CODE_ERROR`),
      error.message,
    );
    assert.ok(error.message.includes(`span=${sent.client_span_id}`), error.message);
  },
});
