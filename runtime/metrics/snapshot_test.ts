import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { parseExposition, valueOf } from "./_exposition.ts";
import {
  type HistogramSeries,
  observe,
  SnapshotCounter,
  SnapshotGauge,
  SnapshotHistogram,
} from "./snapshot.ts";

const BOUNDS = [0.1, 1];

function _series(labels: Record<string, string>): HistogramSeries {
  return { labels, counts: new Float64Array(BOUNDS.length + 1), sum: 0, count: 0 };
}

Deno.test("observe() puts a value equal to a bound in that bound's bucket", () => {
  const series = _series({});
  for (const value of [0.1, 0.05, 0.5, 1, 7]) observe(series, BOUNDS, value);
  assert.deepEqual([...series.counts], [2, 2, 1]);
  assert.equal(series.count, 5);
  assert.ok(Math.abs(series.sum - 8.65) < 1e-9);
});

Deno.test("SnapshotHistogram renders cumulative buckets, sum and count per series", async () => {
  const registry = new Registry();
  const a = _series({ m: "a" });
  const b = _series({ m: "b" });
  observe(a, BOUNDS, 0.05);
  observe(a, BOUNDS, 2);
  new SnapshotHistogram(
    { name: "h_seconds", help: "Latency.", labelNames: ["m"], buckets: BOUNDS, registry },
    () => [a, b],
  );
  const samples = parseExposition(await registry.metrics());
  assert.equal(valueOf(samples, "h_seconds_bucket", { m: "a", le: "0.1" }), 1);
  assert.equal(valueOf(samples, "h_seconds_bucket", { m: "a", le: "1" }), 1);
  assert.equal(valueOf(samples, "h_seconds_bucket", { m: "a", le: "+Inf" }), 2);
  assert.equal(valueOf(samples, "h_seconds_sum", { m: "a" }), 2.05);
  assert.equal(valueOf(samples, "h_seconds_count", { m: "a" }), 2);
  assert.equal(valueOf(samples, "h_seconds_count", { m: "b" }), 0);
  // prom-client's JSON view merges the labels without touching the series' own.
  const [json] = await registry.getMetricsAsJSON();
  assert.deepEqual(json.values[0].labels, { le: 0.1, m: "a" });
  assert.deepEqual(a.labels, { m: "a" });
});

Deno.test("SnapshotCounter and SnapshotGauge read their values at scrape time", async () => {
  const registry = new Registry();
  let value = 1;
  new SnapshotCounter(
    { name: "c_total", help: "Count.", labelNames: ["k"], registry },
    () => [{ labels: { k: "v" }, value }],
  );
  new SnapshotGauge({ name: "g", help: "Level.", labelNames: [], registry }, () => [
    { labels: {}, value: value * 10 },
  ]);
  value = 3;
  const samples = parseExposition(await registry.metrics());
  assert.equal(valueOf(samples, "c_total", { k: "v" }), 3);
  assert.equal(valueOf(samples, "g"), 30);
  assert.match(await registry.metrics(), /^# TYPE c_total counter$/m);
});
