/**
 * h2load as the load generator for unary and server-streaming cases, and
 * the parsing of its summary and per-request log.
 * @module
 */
import { LOAD_CPU, run } from "./_process.ts";

/** One h2load run, parsed. */
export interface LoadResult {
  /** Calls that got HTTP 200 within the measured window (h2load's "succeeded"). */
  readonly succeeded: number;
  /** Calls h2load saw fail (connection errors, non-2xx). */
  readonly failed: number;
  readonly seconds: number;
  readonly rate: number;
  /** Latency percentiles in ms, from the per-request log. */
  readonly p50: number;
  readonly p99: number;
}

/** Runs h2load against `url` for `seconds`, posting `bodyFile` as every request, pinned to the load core. */
export async function h2load(
  url: string,
  load: { bodyFile: string; connections: number; streams: number; seconds: number },
  logFile: string,
): Promise<LoadResult> {
  const { bodyFile, seconds } = load;
  const args = [
    "h2load",
    `-c${load.connections}`,
    `-m${load.streams}`,
    "-t1",
    `-D${Math.round(seconds * 1000)}ms`,
    "-d",
    bodyFile,
    "-H",
    "content-type:application/grpc",
    "-H",
    "te:trailers",
    "-H",
    "x-api-key:bench",
    `--log-file=${logFile}`,
    url,
  ];
  // h2load appends to an existing log file: start from an empty one.
  await Deno.remove(logFile).catch(() => {});
  const out = await run(args, { cpu: LOAD_CPU, timeoutMs: seconds * 1000 + 30_000 });
  if (out.code !== 0) throw new Error(`h2load exited ${out.code}: ${out.stderr.trim()}`);
  const summary = parseSummary(out.stdout);
  const { p50, p99 } = latencyPercentiles(await Deno.readTextFile(logFile));
  await Deno.remove(logFile);
  return { ...summary, p50, p99 };
}

/** Parses h2load's "finished in" and "requests:" lines. */
export function parseSummary(
  text: string,
): { succeeded: number; failed: number; seconds: number; rate: number } {
  const finished = /finished in ([\d.]+)(ms|s)/.exec(text);
  const requests = /requests: .*?(\d+) succeeded, (\d+) failed, (\d+) errored/.exec(text);
  if (!finished || !requests) throw new Error(`Cannot parse h2load output: ${text.slice(-400)}`);
  const seconds = Number(finished[1]) / (finished[2] === "ms" ? 1000 : 1);
  const succeeded = Number(requests[1]);
  return {
    succeeded,
    failed: Number(requests[2]) + Number(requests[3]),
    seconds,
    rate: succeeded / seconds,
  };
}

/** p50 and p99 (ms) of the successful requests in an h2load `--log-file`. */
export function latencyPercentiles(log: string): { p50: number; p99: number } {
  const micros: number[] = [];
  for (const line of log.split("\n")) {
    const [, status, duration] = line.split("\t");
    if (status === "200") micros.push(Number(duration));
  }
  const sorted = Float64Array.from(micros).sort();
  return { p50: percentile(sorted, 0.5) / 1000, p99: percentile(sorted, 0.99) / 1000 };
}

/** The `p` quantile of ascending `sorted` values (nearest rank); 0 when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
