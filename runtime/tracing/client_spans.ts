/**
 * The CLIENT span of every `ctx.clients` call, and the headers that carry
 * its context on: a child of the active span (a span handler code started
 * around the call) or else of the handler's call span, sampled with it.
 * @module
 */
import { propagation, trace } from "@opentelemetry/api";
import type { CallContextManager } from "./context.ts";
import { Status } from "../core/errors.ts";
import type { CallParent, OutgoingMethod, OutgoingSpan, OutgoingTracer } from "../core/clients.ts";
import { formatTraceParent, newSpanId } from "./ids.ts";
import { serializeBaggage } from "./propagation.ts";
import { startApiSpan, type TracerCore } from "./api_tracer.ts";
import { RecordingSpan, type Scope, type UnsampledSpan } from "./span.ts";
import { encodeAttributes } from "./otlp_encode.ts";
import { SpanKindCode, StatusCodeValue } from "./span_data.ts";

/** Traces outgoing calls with `core`'s sampler and sink. */
export class ClientTracer implements OutgoingTracer {
  readonly #core: TracerCore;
  readonly #scope: Scope;
  readonly #fixed = new Map<string, Uint8Array>();
  readonly #contexts: CallContextManager;

  constructor(core: TracerCore, scope: Scope, contexts: CallContextManager) {
    this.#core = core;
    this.#scope = scope;
    this.#contexts = contexts;
  }

  start(method: OutgoingMethod, parent: CallParent | undefined): OutgoingSpan {
    // The active context first: a span handler code opened around this call.
    // Else, or when that span is an orphan (started in an unsampled call,
    // which enters no context: context.ts), the handler's call span, whose
    // trace the call belongs to.
    let context = this.#contexts.peek();
    const active = trace.getSpan(context);
    if ((active === undefined || (active as UnsampledSpan).orphan === true) && parent?.span) {
      context = trace.setSpan(context, parent.span);
    }
    const span = startApiSpan(this.#core, this.#scope, `${method.service}/${method.name}`, {
      kind: SpanKindCode.CLIENT - 1,
    }, context);
    const spanContext = span.spanContext();
    const headers: [string, string][] = [];
    if (trace.isSpanContextValid(spanContext)) {
      // A non-recording span from the API has no id of its own to pass on; make one.
      const spanId = span instanceof RecordingSpan ? spanContext.spanId : newSpanId();
      headers.push([
        "traceparent",
        formatTraceParent(spanContext.traceId, spanId, spanContext.traceFlags),
      ]);
      const state = spanContext.traceState?.serialize();
      if (state) headers.push(["tracestate", state]);
    }
    const baggage = propagation.getBaggage(context);
    const incoming = parent?.metadata?.get("baggage");
    const header = baggage
      ? serializeBaggage(baggage)
      : typeof incoming === "string"
      ? incoming
      : "";
    if (header !== "") headers.push(["baggage", header]);
    if (!(span instanceof RecordingSpan)) return { headers, setPeer() {}, end() {} };
    span.fixedAttributes = this.#fixedFor(method);
    return {
      headers,
      setPeer: (address) => span.setAttributes(serverAttributes(address)),
      end(code, message) {
        span.grpcStatus = code;
        // A client reports every code but OK as an error (semantic conventions, RPC spans).
        if (code !== Status.OK && span.statusCode === StatusCodeValue.UNSET) {
          span.statusCode = StatusCodeValue.ERROR;
          span.statusMessage = message;
        }
        span.end();
      },
    };
  }

  #fixedFor(method: OutgoingMethod): Uint8Array {
    const key = `${method.service}/${method.name}`;
    let bytes = this.#fixed.get(key);
    if (!bytes) {
      bytes = encodeAttributes({
        "rpc.system": "grpc",
        "rpc.service": method.service,
        "rpc.method": method.name,
      }, 9);
      this.#fixed.set(key, bytes);
    }
    return bytes;
  }
}

/** `server.address` and `server.port` from `host:port` (IPv6 in brackets). */
function serverAttributes(address: string): Record<string, string | number> {
  const match = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
  if (!match) return { "server.address": address };
  return { "server.address": match[1], "server.port": Number(match[2]) };
}
