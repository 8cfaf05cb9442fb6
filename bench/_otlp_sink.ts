/**
 * The OTLP sink the tracing contenders export to (servers/otlp_sink.ts),
 * in a process of its own on a port the kernel picks: its URL reaches the
 * contenders through {@link otlpSink}, read when each server starts.
 * @module
 */
import { join } from "node:path";
import { BENCH_DIR } from "./_setup.ts";

/** Where the running sink listens; empty until {@link startOtlpSink}. */
export const otlpSink = { url: "" };

/** Starts the sink and points {@link otlpSink} at it. */
export async function startOtlpSink(): Promise<{ stop(): Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(BENCH_DIR, "servers", "otlp_sink.ts"), "0"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  const reader = child.stdout.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const first = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("the OTLP sink did not start in 30 s")), 30_000)
      ),
    ]);
    if (first.done) throw new Error("the OTLP sink exited at start");
    const { port } = JSON.parse(new TextDecoder().decode(first.value)) as { port: number };
    otlpSink.url = `http://127.0.0.1:${port}`;
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
    child.stdout.cancel();
  }
  return { stop };
}
