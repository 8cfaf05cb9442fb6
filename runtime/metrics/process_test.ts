import assert from "node:assert/strict";
import { cpuUsage } from "node:process";
import { Registry } from "prom-client";
import { findSamples, parseExposition, valueOf } from "./_exposition.ts";
import { createProcessMetrics } from "./process.ts";

Deno.test("createProcessMetrics() reports plausible values for this process", async () => {
  const registry = new Registry();
  const processMetrics = createProcessMetrics(registry);
  await processMetrics.sample();
  const samples = parseExposition(await registry.metrics());
  const now = Date.now() / 1e3;
  const start = valueOf(samples, "process_start_time_seconds");
  assert.ok(start <= now && start > now - 3600, `start ${start}, now ${now}`);
  const user = valueOf(samples, "process_cpu_user_seconds_total");
  const system = valueOf(samples, "process_cpu_system_seconds_total");
  assert.ok(user > 0);
  assert.ok(Math.abs(valueOf(samples, "process_cpu_seconds_total") - (user + system)) < 1e-9);
  assert.ok(valueOf(samples, "process_resident_memory_bytes") > 1e6);
  assert.ok(valueOf(samples, "nodejs_heap_size_used_bytes") > 0);
  const lag = valueOf(samples, "nodejs_eventloop_lag_seconds");
  assert.ok(lag >= 0 && lag < 1);
  assert.ok(findSamples(samples, "nodejs_heap_space_size_used_bytes", { space: "old" }).length);
  assert.equal(
    valueOf(samples, "deno_version_info", {
      version: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
    }),
    1,
  );
  if (Deno.build.os === "linux") {
    assert.ok(valueOf(samples, "process_open_fds") > 2);
    assert.ok(valueOf(samples, "process_max_fds") >= valueOf(samples, "process_open_fds"));
    assert.ok(valueOf(samples, "process_virtual_memory_bytes") > 0);
    assert.ok(valueOf(samples, "process_heap_bytes") > 0);
  }
  // The ones prom-client reports wrongly on Deno are left out.
  for (const name of ["nodejs_active_handles_total", "nodejs_gc_duration_seconds_count"]) {
    assert.equal(findSamples(samples, name).length, 0);
  }
});

Deno.test("createProcessMetrics() counts CPU time as it is spent", async () => {
  const registry = new Registry();
  const processMetrics = createProcessMetrics(registry);
  const cpu = async () => {
    await processMetrics.sample();
    return valueOf(parseExposition(await registry.metrics()), "process_cpu_seconds_total");
  };
  const before = await cpu();
  // Burn 50 ms of CPU, not of wall time: on a loaded machine the process
  // may be descheduled for much of a 50 ms wall-clock loop.
  const start = cpuUsage();
  const giveUp = performance.now() + 5000;
  while (cpuMicros(start) < 50_000 && performance.now() < giveUp) { /* burn CPU */ }
  assert.ok((await cpu()) - before >= 0.03);
});

Deno.test("createProcessMetrics() reports open file descriptors as they change", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  const registry = new Registry();
  const processMetrics = createProcessMetrics(registry);
  const fds = async () => {
    await processMetrics.sample();
    return valueOf(parseExposition(await registry.metrics()), "process_open_fds");
  };
  // deno test --parallel runs other test files in this same process, and
  // they open and close descriptors meanwhile: open many, allow slack, and
  // take the best of a few tries.
  const seen: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await fds();
    const files = await Promise.all(Array.from({ length: 32 }, () => Deno.open(Deno.execPath())));
    try {
      seen.push((await fds()) - before);
    } finally {
      for (const file of files) file.close();
    }
    if (seen.at(-1)! >= 28 && seen.at(-1)! <= 36) return;
  }
  assert.fail(`opened 32 files; process_open_fds moved by ${seen.join(", ")}`);
});

function cpuMicros(since: ReturnType<typeof cpuUsage>): number {
  const used = cpuUsage(since);
  return used.user + used.system;
}
