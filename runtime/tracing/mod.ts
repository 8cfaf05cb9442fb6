/**
 * The tracing built-in: loaded by app/start.ts only when `tracing.enabled`,
 * so with tracing off no OpenTelemetry module is loaded. Builds the sampler,
 * the batch exporter and the OTLP encoder; registers svc's tracer provider,
 * context manager and W3C propagator as `@opentelemetry/api`'s globals; and
 * hands the server a tracer per method and the clients one for outgoing calls.
 * @module
 */
import { context, propagation, trace } from "@opentelemetry/api";
import type { ResolvedTracing } from "../config/types.ts";
import type { Logger } from "../core/logger.ts";
import type { OutgoingTracer } from "../core/clients.ts";
import type { TracerFor } from "../server/call_tracer.ts";
import type { BoundAddress } from "../transport/types.ts";
import { VERSION } from "../core/version.ts";
import { ApiTracerProvider, type TracerCore } from "./api_tracer.ts";
import { ClientTracer } from "./client_spans.ts";
import { CallContextManager } from "./context.ts";
import { BatchExporter, type TracingReadings } from "./exporter.ts";
import { encodeResource } from "./otlp_encode.ts";
import { OtlpTraceEncoder } from "./otlp_batch.ts";
import { W3CPropagator } from "./propagation.ts";
import { resourceAttributes } from "./resource.ts";
import { createSampler } from "./sampler.ts";
import { MethodTracer, type ServerTracing } from "./server_spans.ts";

export type { TracingReadings } from "./exporter.ts";

/** Options for {@link createTracing}. */
export interface TracingOptions {
  readonly config: ResolvedTracing;
  readonly service: { readonly name: string; readonly version: string };
  readonly log: Logger;
  /** Services whose calls are traced only with `tracing.builtins` (health, reflection). */
  readonly isBuiltin: (service: string) => boolean;
}

/** The running tracing built-in. */
export interface Tracing {
  /** Each method's server tracer; null for built-in services unless `tracing.builtins`. */
  readonly tracerFor: TracerFor;
  /** For `ctx.clients`. */
  readonly outgoing: OutgoingTracer;
  /** For `/metrics`. */
  readonly readings: TracingReadings;
  /** The server listens: its address goes on every SERVER span. */
  setServerAddress(address: BoundAddress): void;
  /** Exports what is queued within `boundMs`, then stops (shutdown, after the last call). */
  shutdown(boundMs: number): Promise<void>;
}

/** What this process registered as `@opentelemetry/api`'s globals. */
let globals: { provider: ApiTracerProvider; contexts: CallContextManager } | null = null;

/**
 * Registers svc's tracer provider, context manager and propagator with the
 * API, once per process; a later app (tests run several) swaps the core.
 * Never `trace.disable()`: that would orphan the proxy tracers handler
 * files took at import.
 */
function registerGlobals(core: TracerCore, contexts: CallContextManager): void {
  if (globals) {
    globals.provider.core = core;
    return;
  }
  const provider = new ApiTracerProvider(core);
  context.setGlobalContextManager(contexts);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CPropagator());
  globals = { provider, contexts };
}

/** The URL spans are posted to: a URL without a path gets OTLP's `/v1/traces`. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1/traces";
  return url.href;
}

/** Starts tracing: nothing is sent until the first span ends. */
export function createTracing(options: TracingOptions): Tracing {
  const { config, log } = options;
  const scope = { name: "svc", version: VERSION };
  const encoder = new OtlpTraceEncoder({
    resource: encodeResource(resourceAttributes(options.service, config.resource)),
    scopeName: scope.name,
    scopeVersion: scope.version,
  });
  const exporter = new BatchExporter({
    url: tracesUrl(config.exporter.endpoint),
    headers: config.exporter.headers,
    timeoutMs: config.exporter.timeout,
    maxQueueSize: config.batch.maxQueueSize,
    maxExportBatchSize: Math.min(config.batch.maxExportBatchSize, config.batch.maxQueueSize),
    scheduleDelayMs: config.batch.scheduleDelay,
    encoder,
    log: log.child({ component: "tracing" }),
  });
  const core: TracerCore = { sampler: createSampler(config.sampler, config.ratio), sink: exporter };
  const contexts = globals?.contexts ?? new CallContextManager();
  let serverAddress: BoundAddress | null = null;
  const server: ServerTracing = { ...core, scope, contexts, serverAddress: () => serverAddress };

  registerGlobals(core, contexts);

  return {
    tracerFor: (method) =>
      !config.builtins && options.isBuiltin(method.service)
        ? null
        : new MethodTracer(server, method),
    outgoing: new ClientTracer(core, scope, contexts),
    readings: exporter,
    setServerAddress: (address) => serverAddress = address,
    shutdown: (boundMs) => exporter.flush(boundMs),
  };
}
