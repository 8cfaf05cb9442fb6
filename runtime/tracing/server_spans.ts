/**
 * The SERVER span of every call: opened before anything else runs (so calls
 * the overload limiter, a rate limit or middleware refuse have one too),
 * parented on the caller's `traceparent`, named `pkg.Service/Method` with
 * the OpenTelemetry RPC semantic conventions, and closed with the status
 * code the client got.
 * @module
 */
import { type Context, propagation } from "@opentelemetry/api";
import { Status } from "../core/errors.ts";
import type { BoundAddress } from "../transport/types.ts";
import type { CallTracer } from "../server/call_tracer.ts";
import type { ServerCallContext } from "../server/call_context.ts";
import { type CallContextManager, SpanOnlyContext } from "./context.ts";
import { cleanTraceState, parseTraceParent } from "./ids.ts";
import { exceptionAttributes, RecordingSpan, type Scope, UnsampledSpan } from "./span.ts";
import type { TracerCore } from "./api_tracer.ts";
import { parseBaggage } from "./propagation.ts";
import { SpanKindCode, StatusCodeValue } from "./span_data.ts";
import { encodeAttributes } from "./otlp_encode.ts";

/** The codes a server reports as an error: the server's fault (semantic conventions, RPC spans). */
const SERVER_ERRORS: ReadonlySet<number> = new Set([
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.UNIMPLEMENTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

const WILDCARD: ReadonlySet<string> = new Set(["0.0.0.0", "::", "[::]", ""]);

/** What the server tracers share. */
export interface ServerTracing extends TracerCore {
  readonly scope: Scope;
  readonly contexts: CallContextManager;
  /** The address the server listens on, once it does (`server.address`, `server.port`). */
  readonly serverAddress: () => BoundAddress | null;
}

/** The tracer for one method. */
export class MethodTracer implements CallTracer {
  readonly #tracing: ServerTracing;
  readonly #name: string;
  readonly #service: string;
  readonly #method: string;
  #fixed: Uint8Array | null = null;

  constructor(tracing: ServerTracing, method: { service: string; name: string }) {
    this.#tracing = tracing;
    this.#service = method.service;
    this.#method = method.name;
    this.#name = `${method.service}/${method.name}`;
  }

  start(ctx: ServerCallContext, now: number): void {
    // header(), not metadata: most calls need no Metadata, and building it costs more than this span.
    const call = ctx.call;
    const parent = parseTraceParent(call.header("traceparent"));
    const state = parent === null ? "" : cleanTraceState(call.header("tracestate"));
    const low32 = parent === null
      ? (Math.random() * 0x1_0000_0000) >>> 0
      : parseInt(parent.traceId.slice(24), 16) >>> 0;
    const sampled = this.#tracing.sampler.sample(
      parent === null ? null : (parent.traceFlags & 1) === 1,
      low32,
    );
    if (!sampled) {
      const span = new UnsampledSpan(parent?.traceId ?? null, low32, state);
      span.baggage = call.header("baggage");
      ctx.callSpan = span;
      return;
    }
    const span = new RecordingSpan({
      sink: this.#tracing.sink,
      scope: this.#tracing.scope,
      traceId: parent?.traceId ?? null,
      low32,
      parentSpanId: parent?.spanId ?? null,
      parentIsRemote: parent !== null,
      traceState: state,
      name: this.#name,
      kind: SpanKindCode.SERVER,
      startMs: performance.timeOrigin + now,
    });
    span.fixedAttributes = this.#fixed ?? this.#fixedAttributes();
    span.peer = call.peer;
    span.baggage = call.header("baggage");
    ctx.callSpan = span;
  }

  within<R>(ctx: ServerCallContext, fn: (a: never, b: never) => R, a?: unknown, b?: unknown): R {
    const call = fn as (a: unknown, b: unknown) => R;
    const span = ctx.callSpan as RecordingSpan | UnsampledSpan;
    const baggage = span.baggage;
    // Entering a context costs (context.ts): only calls that record a span or carry baggage do.
    if (!(span instanceof RecordingSpan) && baggage === undefined) return call(a, b);
    // An unsampled span in the context keeps handler code's spans unsampled, in the caller's trace.
    let context: Context = new SpanOnlyContext(span);
    if (baggage !== undefined) {
      const parsed = parseBaggage(baggage);
      if (parsed) context = propagation.setBaggage(context, parsed);
    }
    return this.#tracing.contexts.enterCall(context, call, a, b);
  }

  finish(
    ctx: ServerCallContext,
    code: number,
    message: string,
    thrown: unknown,
    now: number,
  ): void {
    const span = ctx.callSpan;
    if (!(span instanceof RecordingSpan)) return;
    span.grpcStatus = code;
    if (thrown !== undefined) span.addEvent("exception", exceptionAttributes(thrown as Error));
    // The handler may have set a status of its own; OK and ERROR stay as set.
    if (span.statusCode === StatusCodeValue.UNSET && SERVER_ERRORS.has(code)) {
      span.statusCode = StatusCodeValue.ERROR;
      span.statusMessage = message;
    }
    span.endAt(performance.timeOrigin + now);
  }

  /** `rpc.*` and the server's address, encoded once the server listens. */
  #fixedAttributes(): Uint8Array {
    const address = this.#tracing.serverAddress();
    const bytes = encodeAttributes({
      "rpc.system": "grpc",
      "rpc.service": this.#service,
      "rpc.method": this.#method,
      // A wildcard listen address names no server; the port still does.
      "server.address": address && !WILDCARD.has(address.host) ? address.host : undefined,
      "server.port": address?.port,
    }, 9);
    if (address !== null) this.#fixed = bytes;
    return bytes;
  }
}
