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
  /** Responses whose status was not 2xx. */
  readonly non2xx: number;
  /** Response body bytes received (HTTP/1.1: after de-chunking), cut-off calls included. */
  readonly dataBytes: number;
  readonly seconds: number;
  readonly rate: number;
  /** Latency percentiles in ms, from the per-request log. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** How h2load loads: what it posts, with which headers, how many at once, how long. */
export interface LoadSpec {
  readonly bodyFile: string;
  /** `name:value` request headers. */
  readonly headers: readonly string[];
  /** HTTP/1.1 (`--h1`) instead of HTTP/2. */
  readonly h1: boolean;
  readonly connections: number;
  /** Concurrent calls per connection (HTTP/1.1: pipelined requests). */
  readonly streams: number;
  readonly seconds: number;
  /**
   * A fixed offered rate: calls/s per connection (h2load `--rps`). h2load
   * ticks every max(10 ms, 1/rps) and sends the calls due since the last
   * tick, so calls leave in small bursts (rps/100 per connection per tick).
   */
  readonly rps?: number;
}

/** Runs h2load against `url` for `seconds`, posting `bodyFile` as every request, pinned to the load core. */
export async function h2load(url: string, load: LoadSpec, logFile: string): Promise<LoadResult> {
  const { bodyFile, seconds } = load;
  const args = [
    "h2load",
    ...(load.h1 ? ["--h1"] : []),
    `-c${load.connections}`,
    `-m${load.streams}`,
    "-t1",
    `-D${Math.round(seconds * 1000)}ms`,
    ...(load.rps ? [`--rps=${load.rps}`] : []),
    "-d",
    bodyFile,
    ...load.headers.flatMap((h) => ["-H", h]),
    `--log-file=${logFile}`,
    url,
  ];
  // h2load appends to an existing log file: start from an empty one.
  await Deno.remove(logFile).catch(() => {});
  const out = await run(args, { cpu: LOAD_CPU, timeoutMs: seconds * 1000 + 30_000 });
  if (out.code !== 0) throw new Error(`h2load exited ${out.code}: ${out.stderr.trim()}`);
  const summary = parseSummary(out.stdout);
  const { p50, p99, p999, max } = latencyDistribution(await Deno.readTextFile(logFile));
  await Deno.remove(logFile);
  return { ...summary, p50, p99, p999, max };
}

/** Parses h2load's "finished in", "requests:", "status codes:" and "traffic:" lines. */
export function parseSummary(
  text: string,
): {
  succeeded: number;
  failed: number;
  non2xx: number;
  dataBytes: number;
  seconds: number;
  rate: number;
} {
  const finished = /finished in ([\d.]+)(ms|s)/.exec(text);
  const requests = /requests: .*?(\d+) succeeded, (\d+) failed, (\d+) errored/.exec(text);
  const codes = /status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text);
  const traffic = /traffic: .*?\((\d+)\) data/.exec(text);
  if (!finished || !requests || !codes || !traffic) {
    throw new Error(`Cannot parse h2load output: ${text.slice(-400)}`);
  }
  const seconds = Number(finished[1]) / (finished[2] === "ms" ? 1000 : 1);
  const succeeded = Number(requests[1]);
  return {
    succeeded,
    failed: Number(requests[2]) + Number(requests[3]),
    non2xx: Number(codes[1]) + Number(codes[2]) + Number(codes[3]),
    dataBytes: Number(traffic[1]),
    seconds,
    rate: succeeded / seconds,
  };
}

/** p50 and p99 (ms) of the successful requests in an h2load `--log-file`. */
export function latencyPercentiles(log: string): { p50: number; p99: number } {
  const { p50, p99 } = latencyDistribution(log);
  return { p50, p99 };
}

/** The latency distribution of an h2load `--log-file`'s successful requests. */
export interface LatencyDistribution {
  /** Percentiles and the maximum, in ms. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly count: number;
}

/**
 * p50, p99, p99.9 and max (ms) of the successful requests in an h2load
 * `--log-file` (start µs, status, µs until the end of the response): h2load
 * prints no p99.9 of its own.
 */
export function latencyDistribution(log: string): LatencyDistribution {
  const micros: number[] = [];
  for (const line of log.split("\n")) {
    const [, status, duration] = line.split("\t");
    if (status === "200") micros.push(Number(duration));
  }
  const sorted = Float64Array.from(micros).sort();
  const ms = (p: number) => percentile(sorted, p) / 1000;
  return {
    p50: ms(0.5),
    p99: ms(0.99),
    p999: ms(0.999),
    max: sorted.length ? sorted[sorted.length - 1] / 1000 : 0,
    count: sorted.length,
  };
}

/** The `p` quantile of ascending `sorted` values (nearest rank); 0 when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
