/**
 * Per-call cost of the metrics observer: 1e5 calls of a no-op handler,
 * bare and wrapped. The difference divided by 1e5 is the overhead per call.
 * A third case does the same bookkeeping with prom-client label children,
 * the design this module avoids, for comparison.
 *
 *   deno bench -A bench/metrics_bench.ts
 * @module
 */
import { Counter, Histogram, Registry } from "prom-client";
import type { CallHandler } from "../runtime/core/interceptor.ts";
import type { ServerCall } from "../runtime/core/context.ts";
import { HANDLING_BUCKETS } from "../runtime/metrics/grpc_stats.ts";
import { observingInterceptor } from "../runtime/server/observer.ts";
import { createMetrics } from "../runtime/metrics/mod.ts";

const CALLS = 1e5;
const call = {
  method: "/demo.Echo/Unary",
  service: "demo.Echo",
  methodName: "Unary",
  kind: "unary",
  messagesReceived: 1,
  messagesSent: 1,
  signal: new AbortController().signal,
  deadline: Infinity,
} as unknown as ServerCall;
const noop: CallHandler = () => Promise.resolve();
const methods = [{ service: "demo.Echo", name: "Unary", kind: "unary" }] as const;
const metered = observingInterceptor(createMetrics({ methods, defaultMetrics: false }).observer)(
  noop,
);

async function _calls(handler: CallHandler): Promise<void> {
  for (let i = 0; i < CALLS; i++) await handler(call);
}

Deno.bench("1e5 calls, no interceptor", { group: "call", baseline: true }, async () => {
  await _calls(noop);
});

Deno.bench("1e5 calls, metrics observer", { group: "call" }, async () => {
  await _calls(metered);
});

Deno.bench("1e5 calls, prom-client label children (not used)", { group: "call" }, async () => {
  await _calls(_promClientChildren(noop));
});

/** The straightforward prom-client version: cached children, hashed on every inc/observe. */
function _promClientChildren(next: CallHandler): CallHandler {
  const registers = [new Registry()];
  const labelNames = ["grpc_type", "grpc_service", "grpc_method"];
  const started = new Counter({ name: "s_total", help: "s", labelNames, registers });
  const handled = new Counter({
    name: "h_total",
    help: "h",
    labelNames: [...labelNames, "grpc_code"],
    registers,
  });
  const received = new Counter({ name: "r_total", help: "r", labelNames, registers });
  const sent = new Counter({ name: "w_total", help: "w", labelNames, registers });
  const seconds = new Histogram({
    name: "t_seconds",
    help: "t",
    labelNames,
    buckets: [...HANDLING_BUCKETS],
    registers,
  });
  const children = {
    started: started.labels("unary", "demo.Echo", "Unary"),
    ok: handled.labels("unary", "demo.Echo", "Unary", "OK"),
    received: received.labels("unary", "demo.Echo", "Unary"),
    sent: sent.labels("unary", "demo.Echo", "Unary"),
    seconds: seconds.labels("unary", "demo.Echo", "Unary"),
  };
  return async function metered(call) {
    children.started.inc();
    const start = performance.now();
    await next(call);
    children.ok.inc();
    children.received.inc(call.messagesReceived);
    children.sent.inc(call.messagesSent);
    children.seconds.observe((performance.now() - start) / 1e3);
  };
}
