/**
 * What the load and abuse tests watch while they run: the server's RSS,
 * a health Check on its own connection, and the memory-budget metrics.
 * Not a test file.
 * @module
 */
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

/** Health Checks on their own connection every 100 ms; the stop function returns the slowest (ms) and the failures. */
export function watchHealth(port: number): () => Promise<{ slowest: number; failed: number }> {
  const client = health.makeClient("grpc.health.v1.Health", port);
  let slowest = 0;
  let failed = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        await unary(client, "check", { service: "" }, { timeoutMs: 1_000 });
      } catch {
        failed++;
      }
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return async () => {
    running = false;
    await loop;
    client.close();
    return { slowest, failed };
  };
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
