/**
 * What the load and abuse tests send and watch while they run: raw request
 * bytes on a connection of their own, the server's RSS, a health Check on
 * its own connection, and the memory-budget metrics. Not a test file.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { grpcClient, unary } from "./_harness.ts";

const health = grpcClient(["/usr/share/grpc-proto/grpc/health/v1/health.proto"]);

/** The resident set of process `pid`, in MiB. */
export function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** Samples `pid`'s RSS every 50 ms; the stop function returns the peak, in MiB. */
export function watchRss(pid: number): () => number {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch { /* exited: the test will say so */ }
  }, 50);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

/** Slowest probe and failures of a polling loop, once it is stopped. */
type StopWatch = () => Promise<{ slowest: number; failed: number }>;

/** Runs `probe` every `everyMs` until stopped; a probe that throws counts as failed. */
function poll(everyMs: number, probe: () => Promise<unknown>, cleanup = () => {}): StopWatch {
  let slowest = 0;
  let failed = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        await probe();
      } catch {
        failed++;
      }
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return async () => {
    running = false;
    await loop;
    cleanup();
    return { slowest, failed };
  };
}

/** Health Checks on their own connection every 100 ms; the stop function returns the slowest (ms) and the failures. */
export function watchHealth(port: number, timeoutMs = 1_000): StopWatch {
  const client = health.makeClient("grpc.health.v1.Health", port);
  return poll(
    100,
    () => unary(client, "check", { service: "" }, { timeoutMs }),
    () => client.close(),
  );
}

/** GET `path` on the admin port every 250 ms; the stop function returns the slowest (ms) and the failures. */
export function watchAdmin(adminPort: number, path = "/readyz"): StopWatch {
  return poll(250, async () => {
    const response = await fetch(`http://127.0.0.1:${adminPort}${path}`, {
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  });
}

/** Reads unlabelled samples from the admin port's /metrics. */
export async function scrape(adminPort: number, names: string[]): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const name of names) {
    const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    if (m) out[name] = Number(m[1]);
  }
  return out;
}

/** How a raw call ended. */
export interface RawOutcome {
  code: number;
  details: string;
}

/**
 * One unary call of already-encoded `bytes` to `path`, on a connection of
 * its own (grpc-js, sending up to 8 MiB), within `timeoutMs`.
 */
export function sendRaw(
  port: number,
  path: string,
  bytes: Uint8Array,
  timeoutMs = 20_000,
): Promise<RawOutcome> {
  const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": 8 * 2 ** 20,
  });
  return new Promise((resolve) => {
    raw.makeUnaryRequest(
      path,
      (x: Uint8Array) => Buffer.from(x),
      (b: Uint8Array) => b,
      bytes,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error) => {
        raw.close();
        resolve(error ? { code: error.code, details: error.details } : { code: 0, details: "" });
      },
    );
  });
}
