import assert from "node:assert/strict";
import type { ClientCall } from "../core/clients.ts";
import type { CallKind } from "../core/context.ts";
import { GO_CODE_NAMES, Status } from "../core/errors.ts";
import {
  findSamples,
  parseExposition,
  promtoolCheck,
  type Sample,
  valueOf,
} from "./_exposition.ts";
import {
  type ClientReadings,
  createMetrics,
  type DependencyReadings,
  type Metrics,
} from "./mod.ts";

const SERVED = [{ service: "demo.Front", name: "Get", kind: "unary" }] as const;
const DEPENDENCY_METHODS = [
  { service: "demo.Backend", name: "Echo", kind: "unary" },
  { service: "demo.Backend", name: "Upload", kind: "client_stream" },
  { service: "demo.Backend", name: "Download", kind: "server_stream" },
  { service: "demo.Store", name: "Chat", kind: "bidi_stream" },
] as const;

/** An outgoing call as the client side hands it to the observer. */
function _call(service: string, name: string, kind: CallKind, sent = 0, received = 0) {
  const call = {
    service,
    methodName: name,
    method: `/${service}/${name}`,
    kind,
    messagesSent: sent,
    messagesReceived: received,
    attempts: 1,
    peer: "127.0.0.1:50051",
  };
  return call as typeof call & ClientCall;
}

function _labels(service: string, name: string, kind: CallKind) {
  return { grpc_type: kind, grpc_service: service, grpc_method: name };
}

async function _body(metrics: Metrics): Promise<string> {
  return (await metrics.render()).body;
}

async function _samples(metrics: Metrics): Promise<Sample[]> {
  return parseExposition(await _body(metrics));
}

/** Readings of one dependency; every figure distinct so a mix-up shows. */
function _dependency(service: string, base: number): DependencyReadings {
  return {
    service,
    breakerDropRatio: base / 100,
    breakerRejections: base + 1,
    retries: base + 2,
    retriesThrottled: base + 3,
    retryTokens: base + 4,
    instances: base + 5,
    ejectedInstances: base + 6,
    ejections: base + 7,
  };
}

Deno.test("createMetrics() pre-initialises every client series of every dependency method at zero", async () => {
  const metrics = createMetrics({
    methods: SERVED,
    clientMethods: DEPENDENCY_METHODS,
    defaultMetrics: false,
  });
  const samples = await _samples(metrics);
  for (const { service, name, kind } of DEPENDENCY_METHODS) {
    const labels = _labels(service, name, kind);
    for (
      const metric of [
        "grpc_client_started_total",
        "grpc_client_msg_received_total",
        "grpc_client_msg_sent_total",
        "grpc_client_handling_seconds_sum",
        "grpc_client_handling_seconds_count",
      ]
    ) {
      assert.equal(valueOf(samples, metric, labels), 0, metric);
    }
    for (const code of GO_CODE_NAMES) {
      assert.equal(
        valueOf(samples, "grpc_client_handled_total", { ...labels, grpc_code: code }),
        0,
      );
    }
    const buckets = findSamples(samples, "grpc_client_handling_seconds_bucket", labels);
    assert.deepEqual(
      buckets.map((sample) => sample.labels.le),
      ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"],
    );
    assert.ok(buckets.every((sample) => sample.value === 0));
  }
  assert.equal(findSamples(samples, "grpc_client_handled_total").length, 4 * 17);
  // The served method is not a client method, and the other way round.
  assert.equal(findSamples(samples, "grpc_client_started_total", { grpc_method: "Get" }).length, 0);
  assert.equal(
    findSamples(samples, "grpc_server_started_total", { grpc_method: "Echo" }).length,
    0,
  );
  // Without readings there are no svc_client_* series.
  assert.doesNotMatch(await _body(metrics), /svc_client_/);
});

Deno.test("Metrics.clientObserver counts started, handled by code, messages and latency exactly", async () => {
  const metrics = createMetrics({
    methods: SERVED,
    clientMethods: DEPENDENCY_METHODS,
    defaultMetrics: false,
  });
  const observer = metrics.clientObserver;
  const echo = _labels("demo.Backend", "Echo", "unary");
  const finish = (code: number, durationMs: number, sent = 1, received = 1) => {
    const call = _call("demo.Backend", "Echo", "unary", sent, received);
    observer.started(call);
    observer.finished(call, code, durationMs);
  };
  finish(Status.OK, 3); // bucket 0.005
  finish(Status.OK, 30); // bucket 0.05
  finish(Status.UNAVAILABLE, 0.5, 1, 0); // a breaker rejection: nothing received
  finish(Status.DEADLINE_EXCEEDED, 20_000, 1, 0); // past the last bucket: +Inf only
  finish(99, 1); // not a status code: counted as Unknown
  const download = _call("demo.Backend", "Download", "server_stream", 1, 7);
  observer.started(download);
  observer.finished(download, Status.OK, 100);

  const samples = await _samples(metrics);
  const handled = (code: string, labels = echo) =>
    valueOf(samples, "grpc_client_handled_total", { ...labels, grpc_code: code });
  assert.equal(valueOf(samples, "grpc_client_started_total", echo), 5);
  assert.equal(handled("OK"), 2);
  assert.equal(handled("Unavailable"), 1);
  assert.equal(handled("DeadlineExceeded"), 1);
  assert.equal(handled("Unknown"), 1);
  assert.equal(handled("Canceled"), 0);
  assert.equal(valueOf(samples, "grpc_client_msg_sent_total", echo), 5);
  assert.equal(valueOf(samples, "grpc_client_msg_received_total", echo), 3);
  const bucket = (le: string) =>
    valueOf(samples, "grpc_client_handling_seconds_bucket", { ...echo, le });
  assert.equal(bucket("0.005"), 3); // 3 ms, 0.5 ms, 1 ms
  assert.equal(bucket("0.025"), 3);
  assert.equal(bucket("0.05"), 4);
  assert.equal(bucket("10"), 4);
  assert.equal(bucket("+Inf"), 5);
  assert.equal(valueOf(samples, "grpc_client_handling_seconds_count", echo), 5);
  const sum = valueOf(samples, "grpc_client_handling_seconds_sum", echo);
  assert.ok(Math.abs(sum - 20.0345) < 1e-9, `sum ${sum}`);

  const downloadLabels = _labels("demo.Backend", "Download", "server_stream");
  assert.equal(valueOf(samples, "grpc_client_started_total", downloadLabels), 1);
  assert.equal(handled("OK", downloadLabels), 1);
  assert.equal(valueOf(samples, "grpc_client_msg_sent_total", downloadLabels), 1);
  assert.equal(valueOf(samples, "grpc_client_msg_received_total", downloadLabels), 7);
  // Client calls never touch the server's series.
  const served = _labels("demo.Front", "Get", "unary");
  assert.equal(valueOf(samples, "grpc_server_started_total", served), 0);
  assert.equal(valueOf(samples, "svc_server_in_flight_calls"), 0);
});

Deno.test("Metrics.clientObserver counts a call in flight as started, not yet handled", async () => {
  const metrics = createMetrics({
    methods: [],
    clientMethods: DEPENDENCY_METHODS,
    defaultMetrics: false,
  });
  const chat = _call("demo.Store", "Chat", "bidi_stream");
  metrics.clientObserver.started(chat);
  const labels = _labels("demo.Store", "Chat", "bidi_stream");
  let samples = await _samples(metrics);
  assert.equal(valueOf(samples, "grpc_client_started_total", labels), 1);
  assert.equal(
    findSamples(samples, "grpc_client_handled_total", labels).every((s) => s.value === 0),
    true,
  );
  Object.assign(chat, { messagesSent: 3, messagesReceived: 4 });
  metrics.clientObserver.finished(chat, Status.CANCELLED, 5);
  samples = await _samples(metrics);
  assert.equal(
    valueOf(samples, "grpc_client_handled_total", { ...labels, grpc_code: "Canceled" }),
    1,
  );
  assert.equal(valueOf(samples, "grpc_client_msg_sent_total", labels), 3);
  assert.equal(valueOf(samples, "grpc_client_msg_received_total", labels), 4);
});

Deno.test("Metrics.clientObserver adds an unlisted method on its first call, at most 256", async () => {
  const metrics = createMetrics({
    methods: [],
    clientMethods: DEPENDENCY_METHODS,
    defaultMetrics: false,
  });
  for (let i = 0; i < 300; i++) {
    const call = _call("demo.Backend", `Late${i}`, "unary");
    metrics.clientObserver.started(call);
    metrics.clientObserver.finished(call, Status.OK, 1);
  }
  const samples = await _samples(metrics);
  const late = _labels("demo.Backend", "Late0", "unary");
  assert.equal(valueOf(samples, "grpc_client_started_total", late), 1);
  assert.equal(findSamples(samples, "grpc_client_handled_total", late).length, 17);
  assert.equal(findSamples(samples, "grpc_client_started_total").length, 4 + 256);
  // The server's own cap is separate.
  assert.equal(findSamples(samples, "grpc_server_started_total").length, 0);
});

Deno.test("createMetrics() without dependencies renders no client series, and its clientObserver counts nothing", async () => {
  for (const clients of [undefined, null]) {
    const metrics = createMetrics({ methods: SERVED, clientMethods: [], clients });
    const call = _call("demo.Backend", "Echo", "unary");
    metrics.clientObserver.started(call);
    metrics.clientObserver.finished(call, Status.OK, 1);
    const body = await _body(metrics);
    assert.doesNotMatch(body, /grpc_client_/);
    assert.doesNotMatch(body, /svc_client_/);
    assert.match(body, /^grpc_server_started_total\{/m);
  }
});

Deno.test("createMetrics() renders the clients' readings per dependency, read at each scrape", async () => {
  const dependencies = [_dependency("demo.Backend", 10), _dependency("demo.Store", 20)];
  const readings: ClientReadings = { dependencies };
  const metrics = createMetrics({ methods: [], clients: readings, defaultMetrics: false });
  let samples = await _samples(metrics);
  const names: [string, keyof DependencyReadings][] = [
    ["svc_client_breaker_drop_ratio", "breakerDropRatio"],
    ["svc_client_breaker_rejections_total", "breakerRejections"],
    ["svc_client_retries_total", "retries"],
    ["svc_client_retries_throttled_total", "retriesThrottled"],
    ["svc_client_retry_tokens", "retryTokens"],
    ["svc_client_instances", "instances"],
    ["svc_client_ejected_instances", "ejectedInstances"],
    ["svc_client_ejections_total", "ejections"],
  ];
  for (const dependency of dependencies) {
    for (const [name, key] of names) {
      assert.equal(
        valueOf(samples, name, { grpc_service: dependency.service }),
        dependency[key],
        `${name} ${dependency.service}`,
      );
    }
  }
  const body = await _body(metrics);
  assert.match(body, /^# TYPE svc_client_breaker_drop_ratio gauge$/m);
  assert.match(body, /^# TYPE svc_client_retries_total counter$/m);
  // Readings alone register the go-grpc-prometheus client metrics, empty until a call.
  assert.match(body, /^# TYPE grpc_client_handling_seconds histogram$/m);
  assert.equal(findSamples(samples, "grpc_client_started_total").length, 0);

  // Read at scrape time: a later scrape sees new figures; a NaN leaves its series out.
  dependencies[0] = { ..._dependency("demo.Backend", 30), retryTokens: NaN };
  const call = _call("demo.Backend", "Echo", "unary", 1, 1);
  metrics.clientObserver.started(call);
  metrics.clientObserver.finished(call, Status.OK, 2);
  samples = await _samples(metrics);
  assert.equal(valueOf(samples, "svc_client_retries_total", { grpc_service: "demo.Backend" }), 32);
  assert.equal(findSamples(samples, "svc_client_retry_tokens").length, 1);
  assert.equal(
    valueOf(samples, "grpc_client_started_total", _labels("demo.Backend", "Echo", "unary")),
    1,
  );
});

Deno.test("Metrics.render() uses go-grpc-prometheus's client help texts", async () => {
  const body = await _body(
    createMetrics({ methods: [], clientMethods: DEPENDENCY_METHODS, defaultMetrics: false }),
  );
  const help = {
    grpc_client_started_total: "Total number of RPCs started on the client.",
    grpc_client_handled_total:
      "Total number of RPCs completed by the client, regardless of success or failure.",
    grpc_client_msg_received_total: "Total number of RPC stream messages received by the client.",
    grpc_client_msg_sent_total: "Total number of gRPC stream messages sent by the client.",
    grpc_client_handling_seconds:
      "Histogram of response latency (seconds) of the gRPC until it is finished by the application.",
  };
  for (const [name, text] of Object.entries(help)) {
    assert.ok(body.includes(`\n# HELP ${name} ${text}\n`), name);
  }
  assert.match(body, /^# TYPE grpc_client_handled_total counter$/m);
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
  name:
    "Metrics.render() with client metrics passes `promtool check metrics` without lint warnings",
  ignore: !_hasPromtool,
  async fn() {
    const metrics = createMetrics({
      methods: SERVED,
      clientMethods: DEPENDENCY_METHODS,
      clients: { dependencies: [_dependency("demo.Backend", 1), _dependency("demo.Store", 2)] },
    });
    for (const [code, durationMs] of [[Status.OK, 3], [Status.UNAVAILABLE, 40_000]]) {
      const call = _call("demo.Backend", "Echo", "unary", 1, 1);
      metrics.clientObserver.started(call);
      metrics.clientObserver.finished(call, code, durationMs);
    }
    const { body } = await metrics.render();
    const { code, output: said } = await promtoolCheck(body, PROMTOOL);
    // 0 = valid and lint-clean; 3 would be lint only; 1 is a parse error.
    assert.equal(code, 0, `promtool exited ${code}: ${said}`);
  },
});
