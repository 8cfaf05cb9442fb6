/**
 * Reads svc's /metrics to check gRPC-level results: h2load only sees HTTP
 * 200, so the bench compares its count with grpc_server_handled_total.
 * @module
 */

import type { BenchCase } from "./_cases.ts";
import type { Load } from "./_load.ts";

/** One sample line: metric name, labels, value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses Prometheus text lines (no escapes inside label values are needed here). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) labels[k] = v;
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Fetches and parses svc's /metrics on `adminPort`. */
export async function scrape(adminPort: number): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`, {
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** Sum of `name` over samples whose labels match `where`. */
export function total(
  samples: readonly Sample[],
  name: string,
  where: Record<string, string | ((v: string) => boolean)> = {},
): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    const match = Object.entries(where).every(([k, want]) =>
      typeof want === "function" ? want(s.labels[k] ?? "") : s.labels[k] === want
    );
    if (match) sum += s.value;
  }
  return sum;
}

/** Per-method counters that the checks compare. */
export interface MethodCounts {
  readonly ok: number;
  readonly notOk: number;
  readonly cancelled: number;
  readonly sent: number;
  /** Request messages the server read (the client-streaming check). */
  readonly received: number;
  /** Calls of the method that ended UNAVAILABLE. */
  readonly unavailable: number;
  /**
   * Calls the overload limiter shed, whole process (its counter has no
   * method label; during a case only the case's method is called).
   */
  readonly shed: number;
}

/** The counters of `/<service>/<method>` (web calls count as gRPC calls do). */
export function methodCounts(
  samples: readonly Sample[],
  method: string,
  service = "bench.Echo",
): MethodCounts {
  const m = { grpc_service: service, grpc_method: method };
  const handled = "grpc_server_handled_total";
  return {
    ok: total(samples, handled, { ...m, grpc_code: "OK" }),
    notOk: total(samples, handled, { ...m, grpc_code: (c) => c !== "OK" }),
    cancelled: total(samples, handled, { ...m, grpc_code: "Canceled" }),
    sent: total(samples, "grpc_server_msg_sent_total", m),
    received: total(samples, "grpc_server_msg_received_total", m),
    unavailable: total(samples, handled, { ...m, grpc_code: "Unavailable" }),
    shed: total(samples, "svc_overload_rejections_total"),
  };
}

/** Waits (bounded) until svc reports no call in flight. */
export async function waitIdle(adminPort: number, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (total(await scrape(adminPort), "svc_server_in_flight_calls") === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * h2load counts HTTP 200; svc's counters must show that many calls ended OK.
 * Calls still in flight when h2load stops may end either way, so up to
 * c × m extra OK or Canceled calls are allowed. With `overload` on, a
 * closed-loop load at saturation keeps c × m calls queued, which can be a
 * standing queue past `targetDelay` (256 × 64 KiB echoes is ~15 ms of
 * work), so the limiter may shed: such calls count when they are exactly
 * the limiter's UNAVAILABLEs, and the result says how many.
 */
export function verifyMetrics(
  benchCase: BenchCase,
  before: MethodCounts,
  after: MethodCounts,
  load: Load,
): string {
  const ok = after.ok - before.ok;
  const notOk = after.notOk - before.notOk;
  const cancelled = after.cancelled - before.cancelled;
  const sent = after.sent - before.sent;
  if (benchCase.driver === "pingpong") {
    if (ok !== load.okCalls || sent !== load.calls || notOk !== 0) {
      throw new Error(
        `metrics disagree: ${ok} OK calls, ${notOk} not OK, ${sent} messages sent; ` +
          `the client saw ${load.okCalls} OK calls, ${load.calls} replies`,
      );
    }
    return `metrics: ${ok} calls OK, ${sent} replies = client's; `;
  }
  const shed = after.shed - before.shed;
  const unavailable = after.unavailable - before.unavailable;
  const slack = benchCase.connections * benchCase.streams;
  // h2load counts a shed call (HTTP 200, grpc-status 14) as succeeded.
  if (
    ok < load.calls - shed || ok > load.calls + slack || notOk !== cancelled + shed ||
    unavailable !== shed || cancelled > slack
  ) {
    throw new Error(
      `metrics disagree with h2load: ${ok} OK, ${notOk} not OK (${cancelled} Canceled, ` +
        `${shed} shed by the overload limiter); h2load counted ${load.calls} succeeded`,
    );
  }
  const shedNote = shed === 0 ? "" : `${shed} shed by the overload limiter, `;
  const perCall = benchCase.requestsPerCall;
  if (perCall !== undefined) {
    // Every OK call read all its requests; a call cut off at stop read some.
    const received = after.received - before.received;
    if (received < ok * perCall || received > (ok + cancelled) * perCall) {
      throw new Error(
        `metrics disagree: ${received} requests received for ${ok} OK calls ` +
          `(${cancelled} Canceled) of ${perCall} requests each`,
      );
    }
    return `metrics: ${ok} OK ≥ h2load's ${load.calls}, ${received} requests received ` +
      `(${perCall} per call), ${shedNote}${cancelled} Canceled at stop; `;
  }
  return `metrics: ${ok} OK ≥ h2load's ${load.calls}, ${shedNote}${cancelled} Canceled at stop; `;
}
