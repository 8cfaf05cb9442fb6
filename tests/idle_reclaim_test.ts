/**
 * `server.reclaimIdleMemory`: after a busy spell of 32 KiB echoes (h2load,
 * a peer we did not write), svc gives the memory back by itself within
 * seconds of the load stopping, and says so in its log; switched off, it
 * does not. Anonymous RSS is read from /proc, as the kernel sees it. At
 * its first calm moment it also hands back the executable's start-up pages
 * (file-backed RSS), once.
 */
import assert from "node:assert/strict";
import { h2loadGrpc, h2loadMissing } from "./_h2load.ts";
import { ROOT, startSvc, TEST_TRANSPORT } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const MiB = 1024 * 1024;

/** e2e.EchoRequest { message: 32 KiB of "x" } with gRPC's 5-byte prefix. */
function echoBody(): Uint8Array {
  const message = new TextEncoder().encode("x".repeat(32 * 1024));
  const proto = new Uint8Array([0x0a, 0x80, 0x80, 0x02, ...message]); // field 1, varint 32768
  return framed(proto);
}

/** gRPC's 5-byte prefix, then `proto`. */
function framed(proto: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + proto.length);
  new DataView(out.buffer).setUint32(1, proto.length);
  out.set(proto, 5);
  return out;
}

function rssBytes(pid: number, kind: "Anon" | "File"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(new RegExp(`^Rss${kind}:\\s+(\\d+) kB`, "m").exec(status)![1]) * 1024;
}

function anonRssBytes(pid: number): number {
  return rssBytes(pid, "Anon");
}

/** A busy spell: 8,000 echoes of 32 KiB on 8 connections × 32 streams, all OK. */
async function busySpell(port: number): Promise<void> {
  const out = await h2load(port, echoBody(), ["-n8000"]);
  assert.match(out, /8000 succeeded, 0 failed/);
}

/** Runs h2load against e2e.Test/Echo with `body` and `limit` (-n or -D); returns its report. */
async function h2load(port: number, body: Uint8Array, limit: string[]): Promise<string> {
  const url = `http://127.0.0.1:${port}/e2e.Test/Echo`;
  const { code, out } = await h2loadGrpc(
    url,
    body,
    [...limit, "-c8", "-m32"],
    AbortSignal.timeout(60_000),
  );
  assert.equal(code, 0, out);
  return out;
}

const GIVEN_BACK = "memory given back after a busy spell";
const TRIMMED_UNDER_LOAD = "malloc's free pages given back under load";
const PAGES_BACK = "start-up pages of the executable given back";

Deno.test({
  name: "two calm seconds after start, svc hands back its executable's start-up pages, once",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: { SVC_LOGGING_ACCESS_LOG: "false", SVC_LOGGING_LEVEL: "info" },
    });
    const before = rssBytes(svc.pid, "File");
    const line = await svc.waitForLog((l) => l.msg === PAGES_BACK, 10_000);
    const after = rssBytes(svc.pid, "File");
    console.log(
      `file-backed RSS ${Math.round(before / MiB)} → ${Math.round(after / MiB)} MiB; logged ${
        JSON.stringify(line)
      }`,
    );
    // Tens of MiB: the transpiler, module loader and npm resolution are not touched again.
    assert.ok(Number(line.afterMiB) < Number(line.rssFileMiB) - 10, JSON.stringify(line));
    assert.ok(after < before - 10 * MiB, `${before} → ${after}`);
    assert.ok(Number(line.pauseMs) < 1_000, JSON.stringify(line));
    // What serving needs comes back on first touch: a busy spell after it is all OK.
    if (!h2loadMissing) await busySpell(svc.port);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(svc.logs().filter((l) => l.msg === PAGES_BACK).length, 1, "once");
  },
});

Deno.test({
  name: "after a busy spell, svc gives its memory back within seconds of the load stopping",
  ignore: h2loadMissing || Deno.build.os !== "linux",
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: { SVC_LOGGING_ACCESS_LOG: "false", SVC_LOGGING_LEVEL: "info" },
    });
    await busySpell(svc.port);
    const afterLoad = anonRssBytes(svc.pid);
    // Two quiet checks a second apart, then the reclaim: 2-3 s on a quiet machine.
    const line = await svc.waitForLog((l) => l.msg === GIVEN_BACK, 15_000);
    const settled = anonRssBytes(svc.pid);
    console.log(
      `anon RSS at the end of load ${Math.round(afterLoad / MiB)} MiB, after the reclaim ${
        Math.round(settled / MiB)
      } MiB; logged ${JSON.stringify(line)}`,
    );
    assert.ok(Number(line.beforeMiB) - Number(line.afterMiB) >= 32, JSON.stringify(line));
    assert.ok(afterLoad - settled >= 32 * MiB, `${afterLoad} → ${settled}`);
    assert.ok(Number(line.pauseMs) < 1_000, JSON.stringify(line));
  },
});

Deno.test({
  name: "with reclaimIdleMemory off, nothing is given back by svc after the same spell",
  ignore: h2loadMissing || Deno.build.os !== "linux",
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: {
        SVC_LOGGING_ACCESS_LOG: "false",
        SVC_LOGGING_LEVEL: "info",
        SVC_SERVER_RECLAIM_IDLE_MEMORY: "false",
      },
    });
    const idle = anonRssBytes(svc.pid);
    await busySpell(svc.port);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    assert.ok(!svc.logs().some((l) => l.msg === GIVEN_BACK), svc.stderr());
    assert.ok(!svc.logs().some((l) => l.msg === PAGES_BACK), svc.stderr());
    // The spell did leave memory behind, and it is still held.
    const held = anonRssBytes(svc.pid);
    console.log(
      `anon RSS idle ${Math.round(idle / MiB)} MiB, 4 s after load ${Math.round(held / MiB)} MiB`,
    );
    assert.ok(held - idle >= 32 * MiB, `${idle} → ${held}`);
  },
});

Deno.test({
  name: "with two workers, the process's memory is given back after a busy spell too",
  // Workers need the native transport (the suite also runs on the grpc-js fallback).
  ignore: h2loadMissing || Deno.build.os !== "linux" || TEST_TRANSPORT !== "native",
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: {
        SVC_LOGGING_ACCESS_LOG: "false",
        SVC_LOGGING_LEVEL: "info",
        SVC_SERVER_WORKERS: "2",
      },
    });
    await busySpell(svc.port);
    const afterLoad = anonRssBytes(svc.pid);
    // Each worker watches its own calls and collects its own heap; malloc_trim is process-wide.
    await svc.waitForLog((l) => l.msg === GIVEN_BACK, 15_000);
    // Give the other worker its two quiet seconds too, then read what the process holds.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const settled = anonRssBytes(svc.pid);
    const reclaims = svc.logs().filter((l) => l.msg === GIVEN_BACK);
    console.log(
      `anon RSS at the end of load ${Math.round(afterLoad / MiB)} MiB, 3 s after the first ` +
        `reclaim ${Math.round(settled / MiB)} MiB; ${reclaims.length} reclaims logged: ` +
        JSON.stringify(reclaims),
    );
    assert.ok(afterLoad - settled >= 32 * MiB, `${afterLoad} → ${settled}`);
  },
});

Deno.test({
  name: "under steady load, svc trims malloc's free pages once the load has lasted five seconds",
  ignore: h2loadMissing || Deno.build.os !== "linux",
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: { SVC_LOGGING_ACCESS_LOG: "false", SVC_LOGGING_LEVEL: "debug" },
    });
    // Eight seconds of 4 KiB echoes: thousands of calls a second, and memory grows well past the
    // 16 MiB a trim under load waits for.
    const message = new TextEncoder().encode("x".repeat(4096));
    const out = await h2load(svc.port, framed(new Uint8Array([0x0a, 0x80, 0x20, ...message])), [
      "-D",
      "8",
    ]);
    const line = svc.logs().find((l) => l.msg === TRIMMED_UNDER_LOAD);
    console.log(`logged ${JSON.stringify(line)}; ${/requests: .*/.exec(out)?.[0]}`);
    assert.ok(line, svc.stderr());
    // A trim without a GC: milliseconds, where a reclaim's full GC takes tens.
    assert.ok(Number(line.pauseMs) < 100, JSON.stringify(line));
    assert.match(out, / 0 failed, 0 errored, 0 timeout/);
    assert.ok(!svc.logs().some((l) => l.msg === GIVEN_BACK), "no GC while calls kept coming");
  },
});
