import assert from "node:assert/strict";
import { GO_CODE_NAMES, RpcError, Status } from "../core/errors.ts";
import type { CallKind } from "../protos/types.ts";
import type { ServerCall } from "../core/context.ts";
import { observingInterceptor } from "../server/observer.ts";
import {
  findSamples,
  parseExposition,
  promtoolCheck,
  type Sample,
  valueOf,
} from "./_exposition.ts";
import { createMetrics, type Metrics } from "./mod.ts";

const METHODS = [
  { service: "demo.Echo", name: "Unary", kind: "unary" },
  { service: "demo.Echo", name: "Upload", kind: "client_stream" },
  { service: "demo.Echo", name: "Download", kind: "server_stream" },
  { service: "demo.Echo", name: "Chat", kind: "bidi_stream" },
] as const;

/** A call as the pipeline hands it to interceptors; the handler bumps the counts. */
function _call(
  name: string,
  kind: CallKind,
  init: { signal?: AbortSignal; deadline?: number } = {},
) {
  const call = {
    method: `/demo.Echo/${name}`,
    service: "demo.Echo",
    methodName: name,
    kind,
    messagesReceived: 0,
    messagesSent: 0,
    signal: init.signal ?? new AbortController().signal,
    deadline: init.deadline ?? Infinity,
    peer: "127.0.0.1:1234",
  };
  return call as typeof call & ServerCall;
}

/** Runs `call` through the metrics interceptor around `handler`. */
function _run(
  metrics: Metrics,
  call: ServerCall,
  handler: (call: ServerCall) => Promise<void>,
): Promise<void> {
  return observingInterceptor(metrics.observer)(handler)(call);
}

async function _samples(metrics: Metrics): Promise<Sample[]> {
  return parseExposition((await metrics.render()).body);
}

function _labels(name: string, kind: CallKind) {
  return { grpc_type: kind, grpc_service: "demo.Echo", grpc_method: name };
}

Deno.test("createMetrics() pre-initialises every series of every method at zero", async () => {
  const samples = await _samples(createMetrics({ methods: METHODS, defaultMetrics: false }));
  for (const { name, kind } of METHODS) {
    const labels = _labels(name, kind);
    for (
      const metric of [
        "grpc_server_started_total",
        "grpc_server_msg_received_total",
        "grpc_server_msg_sent_total",
        "grpc_server_handling_seconds_sum",
        "grpc_server_handling_seconds_count",
        "svc_server_method_in_flight_calls",
      ]
    ) {
      assert.equal(valueOf(samples, metric, labels), 0, metric);
    }
    for (const code of GO_CODE_NAMES) {
      assert.equal(
        valueOf(samples, "grpc_server_handled_total", { ...labels, grpc_code: code }),
        0,
      );
    }
    const buckets = findSamples(samples, "grpc_server_handling_seconds_bucket", labels);
    assert.deepEqual(
      buckets.map((sample) => sample.labels.le),
      ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"],
    );
    assert.ok(buckets.every((sample) => sample.value === 0));
  }
  assert.equal(findSamples(samples, "grpc_server_handled_total").length, 4 * 17);
  assert.equal(valueOf(samples, "svc_server_in_flight_calls"), 0);
  assert.equal(valueOf(samples, "svc_registry_registered"), 0);
  assert.equal(findSamples(samples, "process_cpu_seconds_total").length, 0);
});

Deno.test("createMetrics() interceptor counts all four call kinds with their messages", async () => {
  const metrics = createMetrics({ methods: METHODS, defaultMetrics: false });
  const counts = { Unary: [1, 1], Upload: [5, 1], Download: [1, 7], Chat: [3, 4] };
  for (const { name, kind } of METHODS) {
    const [received, sent] = counts[name];
    for (let i = 0; i < 2; i++) {
      await _run(metrics, _call(name, kind), (call) => {
        Object.assign(call, { messagesReceived: received, messagesSent: sent });
        return Promise.resolve();
      });
    }
  }
  const samples = await _samples(metrics);
  for (const { name, kind } of METHODS) {
    const labels = _labels(name, kind);
    const [received, sent] = counts[name];
    assert.equal(valueOf(samples, "grpc_server_started_total", labels), 2);
    assert.equal(valueOf(samples, "grpc_server_handled_total", { ...labels, grpc_code: "OK" }), 2);
    assert.equal(valueOf(samples, "grpc_server_msg_received_total", labels), 2 * received);
    assert.equal(valueOf(samples, "grpc_server_msg_sent_total", labels), 2 * sent);
    assert.equal(valueOf(samples, "grpc_server_handling_seconds_count", labels), 2);
    const inf = valueOf(samples, "grpc_server_handling_seconds_bucket", { ...labels, le: "+Inf" });
    assert.equal(inf, 2);
  }
});

Deno.test("createMetrics() interceptor labels failures with Go's code names and rethrows", async () => {
  const metrics = createMetrics({ methods: METHODS, defaultMetrics: false });
  const rejected = new RpcError(Status.RESOURCE_EXHAUSTED, "limit perMethod exceeded");
  const aborted = new AbortController();
  aborted.abort();
  const cases: [ServerCall, unknown][] = [
    [_call("Unary", "unary"), rejected],
    [_call("Upload", "client_stream"), new Error("bug")],
    [_call("Download", "server_stream", { signal: aborted.signal, deadline: 1 }), new Error("x")],
    [_call("Chat", "bidi_stream", { signal: aborted.signal }), new Error("x")],
  ];
  for (const [call, thrown] of cases) {
    await assert.rejects(
      () => _run(metrics, call, () => Promise.reject(thrown)),
      (error) => error === thrown,
    );
  }
  const samples = await _samples(metrics);
  const handled = (name: string, kind: CallKind, code: string) =>
    valueOf(samples, "grpc_server_handled_total", { ..._labels(name, kind), grpc_code: code });
  assert.equal(handled("Unary", "unary", "ResourceExhausted"), 1);
  assert.equal(handled("Unary", "unary", "OK"), 0);
  assert.equal(handled("Upload", "client_stream", "Internal"), 1);
  assert.equal(handled("Download", "server_stream", "DeadlineExceeded"), 1);
  assert.equal(handled("Chat", "bidi_stream", "Canceled"), 1);
  assert.equal(valueOf(samples, "svc_server_in_flight_calls"), 0);
});

Deno.test("createMetrics() counts calls in flight, in total and per method", async () => {
  const metrics = createMetrics({ methods: METHODS, defaultMetrics: false });
  const { promise: release, resolve } = Promise.withResolvers<void>();
  const running = _run(metrics, _call("Chat", "bidi_stream"), () => release);
  let samples = await _samples(metrics);
  assert.equal(valueOf(samples, "svc_server_in_flight_calls"), 1);
  const labels = _labels("Chat", "bidi_stream");
  assert.equal(valueOf(samples, "svc_server_method_in_flight_calls", labels), 1);
  assert.equal(valueOf(samples, "grpc_server_started_total", labels), 1);
  assert.equal(valueOf(samples, "grpc_server_handled_total", { ...labels, grpc_code: "OK" }), 0);
  resolve();
  await running;
  samples = await _samples(metrics);
  assert.equal(valueOf(samples, "svc_server_in_flight_calls"), 0);
  assert.equal(valueOf(samples, "svc_server_method_in_flight_calls", labels), 0);
});

Deno.test("createMetrics() adds grpc_code to the histogram when handlingTimeWithCode", async () => {
  const metrics = createMetrics({
    methods: METHODS,
    handlingTimeWithCode: true,
    defaultMetrics: false,
  });
  const labels = _labels("Unary", "unary");
  let samples = await _samples(metrics);
  const count = (code: string) =>
    valueOf(samples, "grpc_server_handling_seconds_count", { ...labels, grpc_code: code });
  assert.equal(count("OK"), 0);
  assert.equal(findSamples(samples, "grpc_server_handling_seconds_count", labels).length, 1);
  await assert.rejects(() =>
    _run(metrics, _call("Unary", "unary"), () => {
      throw new RpcError(Status.NOT_FOUND, "no such user");
    })
  );
  samples = await _samples(metrics);
  assert.equal(count("OK"), 0);
  assert.equal(count("NotFound"), 1);
});

Deno.test("createMetrics() records a method it was not told about on its first call", async () => {
  const metrics = createMetrics({ methods: [], defaultMetrics: false });
  const call = { ..._call("Late", "unary"), method: "/demo.Other/Late", service: "demo.Other" };
  await _run(metrics, call, () => Promise.resolve());
  const samples = await _samples(metrics);
  const labels = { grpc_type: "unary", grpc_service: "demo.Other", grpc_method: "Late" };
  assert.equal(valueOf(samples, "grpc_server_started_total", labels), 1);
  assert.equal(findSamples(samples, "grpc_server_handled_total", labels).length, 17);
});

Deno.test("createMetrics() stops adding unknown methods after 256, but still runs them", async () => {
  const metrics = createMetrics({ methods: [], defaultMetrics: false });
  let ran = 0;
  for (let i = 0; i < 300; i++) {
    const call = { ..._call(`M${i}`, "unary"), method: `/demo.Echo/M${i}` };
    await _run(metrics, call, () => Promise.resolve(void ran++));
  }
  assert.equal(ran, 300);
  const samples = await _samples(metrics);
  assert.equal(findSamples(samples, "grpc_server_started_total").length, 256);
});

Deno.test("createMetrics() counts rate-limit rejections and registry events", async () => {
  const metrics = createMetrics({ methods: METHODS, defaultMetrics: false });
  metrics.onRateLimitReject("perMethod", "demo.Echo", "Unary");
  metrics.onRateLimitReject("perMethod", "demo.Echo", "Unary");
  metrics.onRateLimitReject("global", "demo.Echo", "Chat");
  metrics.setRegistryRegistered(true);
  metrics.onRegistryRegistration();
  metrics.onRegistryFailure();
  metrics.onRegistryFailure();
  const samples = await _samples(metrics);
  const rejections = (limit: string, method: string) =>
    valueOf(samples, "svc_rate_limit_rejections_total", {
      limit,
      grpc_service: "demo.Echo",
      grpc_method: method,
    });
  assert.equal(rejections("perMethod", "Unary"), 2);
  assert.equal(rejections("global", "Chat"), 1);
  assert.equal(valueOf(samples, "svc_registry_registered"), 1);
  assert.equal(valueOf(samples, "svc_registry_registrations_total"), 1);
  assert.equal(valueOf(samples, "svc_registry_failures_total"), 2);
});

Deno.test("createMetrics() keeps separate registries apart", async () => {
  const first = createMetrics({ methods: METHODS, defaultMetrics: false });
  const second = createMetrics({ methods: METHODS, defaultMetrics: false });
  await _run(first, _call("Unary", "unary"), () => Promise.resolve());
  const labels = _labels("Unary", "unary");
  assert.equal(valueOf(await _samples(first), "grpc_server_started_total", labels), 1);
  assert.equal(valueOf(await _samples(second), "grpc_server_started_total", labels), 0);
});

Deno.test("Metrics.render() returns the Prometheus text content type", async () => {
  const { contentType, body } = await createMetrics({ methods: [] }).render();
  assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
  assert.match(
    body,
    /^# HELP grpc_server_started_total Total number of RPCs started on the server\.$/m,
  );
  assert.match(body, /^# TYPE grpc_server_handling_seconds histogram$/m);
});

const PROMTOOL = "/usr/bin/promtool";
const _hasPromtool = (() => {
  try {
    return Deno.statSync(PROMTOOL).isFile;
  } catch {
    return false;
  }
})();
if (!_hasPromtool) console.log(`skipping promtool test: ${PROMTOOL} not installed`);

Deno.test({
  name: "Metrics.render() passes `promtool check metrics` without lint warnings",
  ignore: !_hasPromtool,
  async fn() {
    for (const handlingTimeWithCode of [false, true]) {
      const metrics = createMetrics({ methods: METHODS, handlingTimeWithCode });
      await _run(metrics, _call("Unary", "unary"), () => Promise.resolve());
      await assert.rejects(() =>
        _run(metrics, _call("Chat", "bidi_stream"), () => {
          throw new RpcError(Status.RESOURCE_EXHAUSTED, "limit");
        })
      );
      metrics.onRateLimitReject("perMethod", "demo.Echo", "Chat");
      const { body } = await metrics.render();
      const { code, output: said } = await promtoolCheck(body, PROMTOOL);
      // 0 = valid and lint-clean; 3 would be lint only; 1 is a parse error.
      assert.equal(code, 0, `promtool exited ${code}: ${said}`);
    }
  },
});
