/**
 * Reads svc's /metrics to check gRPC-level results: h2load only sees HTTP
 * 200, so the bench compares its count with grpc_server_handled_total.
 * @module
 */

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
