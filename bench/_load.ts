/**
 * The load a case puts on a server: h2load (unary, server and client
 * streams, the web cases, fixed rates) or the ping-pong client (bidi), read
 * back as calls, rate and latency percentiles.
 * @module
 */
import { join } from "node:path";
import { type BenchCase, caseBodyFile } from "./_cases.ts";
import { h2load } from "./_h2load.ts";
import { LOAD_CPU, run } from "./_process.ts";
import { NODE_DIR } from "./_setup.ts";

/** One load run, as the bench reads it. */
export interface Load {
  readonly calls: number;
  readonly rate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** h2load only: p99.9 and the slowest call, ms. */
  readonly p999Ms?: number;
  readonly maxMs?: number;
  /** Calls the client saw end OK (ping-pong only). */
  readonly okCalls?: number;
  /** h2load only: responses that were not 2xx, and response body bytes received. */
  readonly non2xx?: number;
  readonly dataBytes?: number;
}

/** What the loads run with: a folder for bodies, Node, and the Go ping-pong client if built. */
export interface LoadOptions {
  readonly tmp: string;
  readonly node: string;
  readonly goPingpong: string | null;
}

/**
 * The load for `benchCase` against `port`: h2load, or the ping-pong client.
 * Each call of the result runs it for `seconds`.
 */
export function createLoad(
  benchCase: BenchCase,
  port: number,
  options: LoadOptions,
): (seconds: number) => Promise<Load> {
  if (benchCase.driver === "idle-connections") {
    throw new Error(`${benchCase.name} is not a load (see _idle_connections.ts)`);
  }
  if (benchCase.rateOfSaturation !== undefined && benchCase.rate === undefined) {
    throw new Error(`${benchCase.name}: its rate comes from a saturation figure (run.ts)`);
  }
  return benchCase.driver === "h2load"
    ? h2loadDriver(benchCase, port, options)
    : pingDriver(benchCase, port, options);
}

function h2loadDriver(benchCase: BenchCase, port: number, options: { tmp: string }) {
  const body = caseBodyFile(benchCase, options.tmp);
  const url = `http://127.0.0.1:${port}/${benchCase.service}/${benchCase.method}`;
  return async (seconds: number): Promise<Load> => {
    const r = await h2load(url, {
      bodyFile: body,
      headers: benchCase.headers,
      h1: benchCase.http === "1.1",
      connections: benchCase.connections,
      streams: benchCase.streams,
      seconds,
      ...(benchCase.rate === undefined ? {} : { rps: benchCase.rate / benchCase.connections }),
    }, join(options.tmp, "h2load.log"));
    return {
      calls: r.succeeded,
      rate: r.rate,
      p50Ms: r.p50,
      p99Ms: r.p99,
      p999Ms: r.p999,
      maxMs: r.max,
      non2xx: r.non2xx,
      dataBytes: r.dataBytes,
    };
  };
}

function pingDriver(benchCase: BenchCase, port: number, options: LoadOptions) {
  const go = benchCase.pingpongClient === "go";
  if (go && options.goPingpong === null) {
    throw new Error(`${benchCase.name} needs the Go ping-pong client, which did not build`);
  }
  const client = go ? [options.goPingpong!] : [options.node, join(NODE_DIR, "pingpong.mjs")];
  return async (seconds: number): Promise<Load> => {
    const args = [port, benchCase.connections, benchCase.streams, seconds, 10].map(String);
    const out = await run([...client, ...args], {
      cpu: LOAD_CPU,
      timeoutMs: seconds * 1000 + 30_000,
    });
    const r = JSON.parse(out.stdout.trim().split("\n").pop() || "{}");
    if (out.code !== 0) {
      // No result line (a usage error, a crash): what it said on stderr instead.
      const why = r.failures
        ? JSON.stringify(r.failures)
        : `exit ${out.code}: ${out.stderr.trim()}`;
      throw new Error(`ping-pong client: ${why}`);
    }
    return {
      calls: r.roundTrips,
      rate: r.rate,
      p50Ms: r.p50us / 1000,
      p99Ms: r.p99us / 1000,
      okCalls: r.okCalls,
    };
  };
}
