/**
 * A collector that is down, slow or refusing never hurts the service: calls
 * keep succeeding without waiting on an export, what is lost is counted on
 * /metrics, the warning is rate-limited, and the exporter holds no more than
 * its bounded queue. A healthy collector, for contrast, gets every span.
 *
 * Load comes from tests/python/trace_load.py (grpcio, one channel, a window
 * of calls in flight); the collectors are tests/python/otlp_receiver.py, a
 * real OTLP/HTTP receiver. Each test runs its own svc with a short
 * `OTEL_BSP_SCHEDULE_DELAY`, so exports are attempted often while calls run.
 */
import assert from "node:assert/strict";
import { promtoolCheck } from "../runtime/metrics/_exposition.ts";
import { freePort, startSvc, type SvcProcess } from "./_harness.ts";
import { otlpProtoMissing, startOtlpReceiver } from "./_otlp.ts";
import { pythonGrpcMissing, runPython } from "./_python.ts";

const skip = (await pythonGrpcMissing()) ?? (await otlpProtoMissing());

/** Calls before test 1 takes its first RSS reading. */
const WARM_UP = 10_000;

/** The exporter's warnings: about failed exports, and about the queue when it filled. */
const WARNING = /^tracing: (export to \S+ failed|the span queue is full).*; spans are dropped$/;

/** The demo service, traced, with a short batch delay and no access log. */
function tracedEnv(endpoint: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SVC_TRACING_ENABLED: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: "100",
    SVC_LOGGING_ACCESS_LOG: "false",
    ...extra,
  };
}

/** What trace_load.py prints. */
interface LoadResult {
  calls: number;
  ok: number;
  errors: number;
  codes: Record<string, number>;
  bad_replies: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  seconds: number;
}

/** `calls` SayHello calls, 16 in flight, each with a 10 s deadline; bounded at 90 s. */
async function load(svc: SvcProcess, calls: number): Promise<LoadResult> {
  const lines = await runPython(
    "trace_load.py",
    [String(svc.port), "--calls", String(calls), "--concurrency", "16", "--max-seconds", "90"],
    120_000,
  );
  assert.equal(lines.length, 1, `trace_load.py printed ${JSON.stringify(lines)}`);
  return lines[0] as unknown as LoadResult;
}

/** Every call made and answered OK. */
function assertAllOk(result: LoadResult, calls: number): void {
  assert.equal(result.calls, calls, `calls started: ${JSON.stringify(result)}`);
  assert.equal(result.ok, calls, `calls OK: ${JSON.stringify(result)}`);
  assert.deepEqual(result.codes, { OK: calls });
}

/** The `svc_tracing_*` series of one scrape. */
interface TracingMetrics {
  queueFull: number;
  exportFailed: number;
  exportFailures: number;
  exported: number;
  queued: number;
  /** The whole exposition, for promtool. */
  text: string;
}

/**
 * Scrapes /metrics and reads the tracing series; a series that is missing
 * or appears twice fails the test.
 */
async function tracingMetrics(svc: SvcProcess): Promise<TracingMetrics> {
  const response = await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`, {
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("svc_tracing_")) continue;
    const match = /^(\S+) (\S+)$/.exec(line);
    assert.ok(match, `cannot parse the sample line "${line}"`);
    assert.ok(!values.has(match[1]), `${match[1]} appears twice`);
    values.set(match[1], Number(match[2]));
  }
  const get = (series: string) => {
    const value = values.get(series);
    assert.ok(value !== undefined && Number.isFinite(value), `no ${series} on /metrics:\n${text}`);
    return value;
  };
  return {
    queueFull: get('svc_tracing_spans_dropped_total{reason="queue_full"}'),
    exportFailed: get('svc_tracing_spans_dropped_total{reason="export_failed"}'),
    exportFailures: get("svc_tracing_export_failures_total"),
    exported: get("svc_tracing_spans_exported_total"),
    queued: get("svc_tracing_queued_spans"),
    text,
  };
}

/** Scrapes every 100 ms until `done` accepts the metrics; fails after `timeoutMs`. */
async function waitForMetrics(
  svc: SvcProcess,
  done: (m: TracingMetrics) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<TracingMetrics> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metrics = await tracingMetrics(svc);
    if (done(metrics)) return metrics;
    if (Date.now() > deadline) {
      const { text: _, ...series } = metrics;
      assert.fail(`not within ${timeoutMs} ms: ${what}; last scrape ${JSON.stringify(series)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Every span of `calls` calls is accounted for: dropped (for either reason),
 * exported, or still queued. Once the queue is empty nothing is in flight
 * either, so the sum is exact; it holds only once the exporter has settled.
 */
function accountedFor(calls: number): (m: TracingMetrics) => boolean {
  return (m) => m.queued === 0 && m.queueFull + m.exportFailed + m.exported === calls;
}

/** The exporter's warnings so far ("tracing: ..."). */
function tracingWarnings(svc: SvcProcess): Record<string, unknown>[] {
  return svc.logs().filter((l) => typeof l.msg === "string" && l.msg.startsWith("tracing:"));
}

/** The resident set of `pid`, in MiB. */
function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  assert.ok(match, `no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** The test's own numbers, shown only by `deno test` when it fails. */
function describe(facts: Record<string, unknown>): string {
  return JSON.stringify(facts);
}

Deno.test({
  name: "collector down: calls succeed, failed exports counted, one warning, RSS bounded",
  ignore: skip !== null,
  async fn() {
    const started = performance.now();
    // Nothing listens there: every export fails at once with "connection refused".
    const endpoint = `http://127.0.0.1:${freePort()}`;
    await using svc = await startSvc({ config: "config/svc.yaml", env: tracedEnv(endpoint) });

    // The warm-up lets V8 and the transport grow to their working size
    // under this load, which takes ~10,000 calls, tracing or not (numbers below).
    const warmUp = await load(svc, WARM_UP);
    assertAllOk(warmUp, WARM_UP);
    const rssWarm = rssMiB(svc.pid);
    const measured = await load(svc, 20_000);
    assertAllOk(measured, 20_000);
    const rssAfter = rssMiB(svc.pid);
    const calls = WARM_UP + 20_000;
    const facts = describe({ rssWarm, rssAfter, warmUp, measured });

    // Every span was dropped and counted, and the queue drained: no span
    // is held anywhere else.
    const m = await waitForMetrics(svc, accountedFor(calls), `all ${calls} spans dropped`);
    assert.ok(m.exportFailed > 0, `spans dropped because an export failed; ${facts}`);
    assert.ok(m.exportFailures > 0, `failed exports counted; ${facts}`);
    assert.equal(m.exported, 0, "nothing was exported");

    // One warning per reason however many exports failed: rate-limited to
    // once a minute each (a run slower than a minute may show one per minute).
    const warnings = tracingWarnings(svc);
    const minutes = (performance.now() - started) / 60_000;
    const failed = warnings.filter((w) => /failed/.test(String(w.msg)));
    const full = warnings.filter((w) => /queue is full/.test(String(w.msg)));
    const most = 1 + Math.floor(minutes);
    assert.ok(
      failed.length >= 1 && failed.length <= most && full.length <= most,
      `expected one "tracing:" warning per reason per started minute, got ${
        JSON.stringify(warnings)
      }`,
    );
    for (const warning of warnings) {
      assert.match(String(warning.msg), WARNING);
      assert.equal(warning.level, "warn");
    }

    // Nothing the failing exports leave behind adds up. Measured on 2
    // cores, RSS from 10,000 to 30,000 calls, alone and with the file's
    // three CI modes run at once: native transport +43 to +50 MiB (V8's
    // heap still growing to its working size, and glibc's heap after ~50
    // export bodies of ~145 KB), grpc-js +10 to +15. From 2,000 calls the
    // growth is +50 to +87 MiB, and +77 on grpc-js with tracing off:
    // warm-up, not tracing, hence the longer warm-up. 96 MiB is about twice
    // the worst measured: a leak of 5 KiB a call fails here. The spans
    // themselves (~0.3 KiB encoded) are checked exactly by the sum above.
    assert.ok(
      rssAfter - rssWarm < 96,
      `RSS grew ${(rssAfter - rssWarm).toFixed(1)} MiB over 20,000 calls; ${facts}`,
    );

    const verdict = await promtoolCheck(m.text);
    assert.equal(verdict.code, 0, `promtool check metrics:\n${verdict.output}`);
  },
});

Deno.test({
  name: "collector slower than the export timeout: calls never wait on it, drops are counted",
  ignore: skip !== null,
  async fn() {
    const timeoutMs = 3_000;
    // Answers long after the exporter gave up: every export times out.
    await using receiver = await startOtlpReceiver({ mode: "slow", delayMs: 20_000 });
    await using svc = await startSvc({
      config: "config/svc.yaml",
      env: tracedEnv(receiver.url, {
        OTEL_EXPORTER_OTLP_TIMEOUT: String(timeoutMs),
        // The first export leaves within 100 ms (or at 256 spans, the batch
        // being capped at the queue's size) and hangs for the whole timeout.
        OTEL_BSP_MAX_QUEUE_SIZE: "256",
      }),
    });

    const calls = 5_000;
    const result = await load(svc, calls);
    assertAllOk(result, calls);
    // The queue filled up while an export hung, so calls ran all along a
    // stuck export; had any waited on it, it would have taken the whole
    // timeout. Half of it leaves room for a loaded machine (calls here take
    // ~1 ms, the slowest ~10-100 ms).
    const m = await waitForMetrics(
      svc,
      (m) => m.exportFailures >= 1 && m.queueFull > 0,
      "an export timed out and the queue overflowed",
    );
    const facts = describe({ result, metrics: { ...m, text: undefined } });
    assert.ok(result.max_ms < timeoutMs / 2, `a call waited on the exporter; ${facts}`);
    assert.ok(m.exportFailed > 0, `the hung batch was dropped; ${facts}`);
    assert.ok(m.queued <= 256, `the queue stays within its bound; ${facts}`);
    assert.ok(m.queueFull + m.exportFailed + m.exported + m.queued <= calls, facts);
    assert.ok((await receiver.stats()).requests >= 1, "the exporter did reach the collector");
    assert.match(String(tracingWarnings(svc)[0]?.msg), WARNING, "the drops were logged");
  },
});

Deno.test({
  name: "collector refusing (503): calls succeed, failed exports are counted",
  ignore: skip !== null,
  async fn() {
    await using receiver = await startOtlpReceiver({ mode: "refuse" });
    await using svc = await startSvc({ config: "config/svc.yaml", env: tracedEnv(receiver.url) });

    const calls = 3_000;
    const result = await load(svc, calls);
    assertAllOk(result, calls);
    const m = await waitForMetrics(svc, accountedFor(calls), `all ${calls} spans dropped`);
    const facts = describe({ result, metrics: { ...m, text: undefined } });
    assert.ok(m.exportFailures > 0, `failed exports counted; ${facts}`);
    assert.ok(m.exportFailed > 0, `their spans counted as dropped; ${facts}`);
    assert.equal(m.exported, 0, facts);
    const stats = await receiver.stats();
    assert.ok(
      stats.requests >= m.exportFailures,
      `the collector refused each export: ${JSON.stringify(stats)}`,
    );
    assert.equal(stats.spans, 0);
    // The failed exports' warning names the collector's answer.
    const failed = tracingWarnings(svc).filter((w) => /failed/.test(String(w.msg)));
    assert.equal(failed.length, 1, JSON.stringify(tracingWarnings(svc)));
    assert.match(String(failed[0].msg), /failed: HTTP 503 /);
  },
});

Deno.test({
  name: "healthy collector, for contrast: every span is exported, none dropped",
  ignore: skip !== null,
  async fn() {
    await using receiver = await startOtlpReceiver();
    await using svc = await startSvc({ config: "config/svc.yaml", env: tracedEnv(receiver.url) });

    const calls = 3_000;
    const result = await load(svc, calls);
    assertAllOk(result, calls);
    const m = await waitForMetrics(svc, accountedFor(calls), `all ${calls} spans exported`);
    const facts = describe({ result, metrics: { ...m, text: undefined } });
    assert.equal(m.exported, calls, facts);
    assert.equal(m.queueFull, 0, facts);
    assert.equal(m.exportFailed, 0, facts);
    assert.equal(m.exportFailures, 0, facts);
    assert.equal((await receiver.stats()).spans, calls, "the collector recorded every span");
    assert.deepEqual(tracingWarnings(svc), []);
  },
});
