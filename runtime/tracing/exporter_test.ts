import assert from "node:assert/strict";
import { BatchExporter, type BatchExporterOptions } from "./exporter.ts";
import type { SpanData } from "./span_data.ts";
import type { Logger } from "../core/logger.ts";

/** A real HTTP server on a free port that counts the spans each request says it holds. */
function collector(
  handle: (spans: number, request: Request) => Promise<Response> | Response = () => new Response(),
) {
  const batches: number[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const spans = Number(await request.text());
    const response = await handle(spans, request);
    if (response.ok) batches.push(spans);
    return response;
  });
  return {
    batches,
    url: `http://127.0.0.1:${server.addr.port}/v1/traces`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A collector that reads requests and never answers, until the exporter hangs up. */
function silentCollector() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(65536);
        try {
          while (await conn.read(buf) !== null) { /* read and ignore */ }
        } catch { /* closed by the test */ }
      })();
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/v1/traces`,
    [Symbol.asyncDispose]: () => {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* the exporter closed it first */ }
      }
      return Promise.resolve();
    },
  };
}

function recordingLog() {
  const warnings: string[] = [];
  const log = {
    warn: (msg: string) => warnings.push(msg),
    child: () => log,
  } as unknown as Logger;
  return { log, warnings };
}

function exporter(url: string, options: Partial<BatchExporterOptions> = {}) {
  const { log, warnings } = recordingLog();
  const instance = new BatchExporter({
    url,
    headers: { "x-api-key": "k" },
    timeoutMs: 1000,
    maxQueueSize: 100,
    maxExportBatchSize: 10,
    scheduleDelayMs: 50,
    encoder: countingEncoder(),
    log,
    ...options,
  });
  return { exporter: instance, warnings };
}

const span = {} as SpanData;

/** An encoder whose request body is the number of spans in it, as text. */
function countingEncoder() {
  let open = 0;
  return {
    append() {
      open++;
    },
    get openSpans() {
      return open;
    },
    seal() {
      const body = new TextEncoder().encode(String(open));
      open = 0;
      return body;
    },
    recycle() {},
  };
}
const waitFor = async (done: () => boolean, ms = 3000) => {
  const until = performance.now() + ms;
  while (!done()) {
    if (performance.now() > until) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

Deno.test("exporter: full batches leave at once, the rest after scheduleDelay", async () => {
  await using sink = collector();
  const { exporter: e } = exporter(sink.url);
  for (let i = 0; i < 25; i++) e.add(span);
  await waitFor(() => e.exported === 25);
  assert.deepEqual(sink.batches, [10, 10, 5]);
  assert.equal(e.queued, 0);
  assert.deepEqual(e.dropped, { queue_full: 0, export_failed: 0 });
  await e.flush(1000);
});

Deno.test("exporter: a collector that is down costs the spans, counted, and one warning", async () => {
  const sink = collector();
  const url = sink.url;
  await sink[Symbol.asyncDispose]();
  const { exporter: e, warnings } = exporter(url);
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 10; i++) e.add(span);
    await waitFor(() => e.queued === 0);
  }
  await waitFor(() => e.dropped.export_failed === 50);
  assert.ok(e.exportFailures >= 1);
  assert.equal(e.exported, 0);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /^tracing: export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed/);
  await e.flush(500);
});

Deno.test("exporter: an error status counts as a failure", async () => {
  await using sink = collector(() => new Response("overloaded", { status: 503 }));
  const { exporter: e, warnings } = exporter(sink.url);
  for (let i = 0; i < 10; i++) e.add(span);
  await waitFor(() => e.exportFailures === 1);
  assert.equal(e.dropped.export_failed, 10);
  assert.match(warnings[0], /HTTP 503/);
  await e.flush(500);
});

Deno.test("exporter: while a slow export is out, the queue fills and then drops; add() never waits", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  await using sink = collector(async () => {
    await held;
    return new Response();
  });
  const { exporter: e } = exporter(sink.url, { maxQueueSize: 20, timeoutMs: 5000 });
  for (let i = 0; i < 10; i++) e.add(span);
  await waitFor(() => e.queued === 0); // the first batch is out, and held
  const started = performance.now();
  for (let i = 0; i < 1000; i++) e.add(span);
  assert.ok(performance.now() - started < 50, "add() waited");
  assert.equal(e.queued, 20);
  assert.equal(e.dropped.queue_full, 980);
  release();
  await e.flush(2000);
  assert.equal(e.exported, 30);
});

Deno.test("exporter: a collector slower than the timeout fails the export at the timeout", async () => {
  await using sink = silentCollector();
  const { exporter: e, warnings } = exporter(sink.url, { timeoutMs: 200 });
  for (let i = 0; i < 10; i++) e.add(span);
  await waitFor(() => e.exportFailures === 1, 1000);
  assert.match(warnings[0], /no answer within 200 ms/);
  await e.flush(100);
});

Deno.test("exporter: flush sends everything queued to a live collector, then takes no more", async () => {
  await using sink = collector();
  const { exporter: e } = exporter(sink.url, { scheduleDelayMs: 60_000 });
  for (let i = 0; i < 35; i++) e.add(span);
  await e.flush(2000);
  assert.equal(e.exported, 35);
  e.add(span);
  assert.equal(e.queued, 0);
});

Deno.test("exporter: flush gives up at its bound when the collector does not answer", async () => {
  await using sink = silentCollector();
  const { exporter: e } = exporter(sink.url, { scheduleDelayMs: 60_000, timeoutMs: 10_000 });
  for (let i = 0; i < 35; i++) e.add(span);
  const started = performance.now();
  await e.flush(300);
  const took = performance.now() - started;
  assert.ok(took < 600, `flush took ${took} ms`);
  assert.equal(e.exported, 0);
  assert.equal(e.dropped.export_failed, 35);
});
