/**
 * The tracer handler code gets from `@opentelemetry/api`
 * (`trace.getTracer("db")`): its spans are svc's recording spans, parented on
 * the active context (the call's span inside a handler), sampled by the
 * configured sampler and exported with the runtime's own.
 * @module
 */
import {
  type Context,
  context as contextApi,
  type Span,
  type SpanOptions,
  trace,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { NOT_SAMPLED_KEY } from "./context.ts";
import { traceIdLow32 } from "./ids.ts";
import {
  nowMs,
  RecordingSpan,
  type Scope,
  type SpanSink,
  toEpochMs,
  UnsampledSpan,
} from "./span.ts";
import type { Sampler } from "./sampler.ts";

/** What every tracer shares. */
export interface TracerCore {
  readonly sampler: Sampler;
  readonly sink: SpanSink;
}

/** Starts a span under `parent` (the API's rules: `root`, kind, attributes, links, start time). */
export function startApiSpan(
  core: TracerCore,
  scope: Scope,
  name: string,
  options: SpanOptions,
  parent: Context,
): Span {
  const parentContext = options.root ? undefined : trace.getSpanContext(parent);
  let traceId: string;
  let low32: number;
  let parentSampled: boolean | null;
  if (parentContext && trace.isSpanContextValid(parentContext)) {
    traceId = parentContext.traceId;
    low32 = traceIdLow32(traceId);
    parentSampled = (parentContext.traceFlags & 1) === 1;
  } else {
    if (!options.root && parent.getValue(NOT_SAMPLED_KEY) === true) {
      return new UnsampledSpan(null, (Math.random() * 0x1_0000_0000) >>> 0, "", true);
    }
    low32 = (Math.random() * 0x1_0000_0000) >>> 0;
    traceId = "";
    parentSampled = null;
  }
  const traceState = parentContext?.traceState?.serialize() ?? "";
  if (!core.sampler.sample(parentSampled, low32)) {
    return new UnsampledSpan(traceId || null, low32, traceState);
  }
  const span = new RecordingSpan({
    sink: core.sink,
    scope,
    traceId: traceId || null,
    low32,
    parentSpanId: parentSampled === null ? null : parentContext!.spanId,
    parentIsRemote: parentContext?.isRemote === true,
    traceState,
    name,
    kind: (options.kind ?? 0) + 1, // the API counts from INTERNAL = 0, OTLP from 1
    startMs: options.startTime === undefined ? nowMs() : toEpochMs(options.startTime),
  });
  if (options.attributes) span.setAttributes(options.attributes);
  if (options.links) span.addLinks(options.links);
  return span;
}

/** One instrumentation scope's tracer. */
class ApiTracer implements Tracer {
  constructor(private readonly provider: ApiTracerProvider, private readonly scope: Scope) {}

  startSpan(name: string, options: SpanOptions = {}, context?: Context): Span {
    const core = this.provider.core;
    return startApiSpan(core, this.scope, name, options, context ?? contextApi.active());
  }

  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? rest[0] as SpanOptions : {};
    const parent = rest.length > 2 ? rest[1] as Context : contextApi.active();
    const span = this.startSpan(name, options, parent);
    const run = fn as (span: Span) => ReturnType<F>;
    return contextApi.with(trace.setSpan(parent, span), run, undefined, span);
  }
}

/**
 * The provider registered as the API's global one while tracing is on.
 * Registered once per process: the API's proxy tracers (what
 * `trace.getTracer()` returned to a handler file at import, before tracing
 * started) keep the first tracer they resolve, so a later app in the same
 * process (tests run several) swaps the `core` instead.
 */
export class ApiTracerProvider implements TracerProvider {
  readonly #tracers = new Map<string, Tracer>();
  core: TracerCore;

  constructor(core: TracerCore) {
    this.core = core;
  }

  getTracer(name: string, version = ""): Tracer {
    const key = `${name}@${version}`;
    let tracer = this.#tracers.get(key);
    if (!tracer) this.#tracers.set(key, tracer = new ApiTracer(this, { name, version }));
    return tracer;
  }
}
