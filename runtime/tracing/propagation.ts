/**
 * W3C Trace Context (`traceparent`, `tracestate`) and W3C Baggage
 * (`baggage`) as an OpenTelemetry API propagator, registered globally so
 * handler code calling `propagation.inject()` writes what svc itself sends.
 * @module
 */
import {
  type Baggage,
  type BaggageEntry,
  type Context,
  createTraceState,
  isSpanContextValid,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import { cleanTraceState, formatTraceParent, parseTraceParent } from "./ids.ts";

/** The W3C limits on a `baggage` header. */
const MAX_BAGGAGE_BYTES = 8192;
const MAX_BAGGAGE_ENTRIES = 180;

/** Parses a `baggage` header; entries that do not parse are skipped, as the spec allows. */
export function parseBaggage(header: string): Baggage | null {
  if (header.length > MAX_BAGGAGE_BYTES) return null;
  const entries: Record<string, BaggageEntry> = {};
  let count = 0;
  for (const member of header.split(",")) {
    if (++count > MAX_BAGGAGE_ENTRIES) break;
    const [pair, ...properties] = member.split(";");
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    try {
      const value = decodeURIComponent(pair.slice(at + 1).trim());
      entries[key] = properties.length > 0
        ? { value, metadata: { toString: () => properties.join(";") } } as BaggageEntry
        : { value };
    } catch { /* a bad percent-escape: skip this member */ }
  }
  return Object.keys(entries).length > 0 ? propagation.createBaggage(entries) : null;
}

/** A `baggage` header for `baggage`, or "" when empty. */
export function serializeBaggage(baggage: Baggage): string {
  return baggage.getAllEntries()
    .map(([key, entry]) => {
      const metadata = entry.metadata?.toString();
      return `${key}=${encodeURIComponent(entry.value)}${metadata ? `;${metadata}` : ""}`;
    })
    .join(",");
}

/** W3C Trace Context and Baggage together. */
export class W3CPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (spanContext && isSpanContextValid(spanContext)) {
      setter.set(
        carrier,
        "traceparent",
        formatTraceParent(spanContext.traceId, spanContext.spanId, spanContext.traceFlags),
      );
      const state = spanContext.traceState?.serialize();
      if (state) setter.set(carrier, "tracestate", state);
    }
    const baggage = propagation.getBaggage(context);
    const header = baggage ? serializeBaggage(baggage) : "";
    if (header !== "") setter.set(carrier, "baggage", header);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const first = (key: string) => {
      const value = getter.get(carrier, key);
      return Array.isArray(value) ? value[0] : value;
    };
    const parent = parseTraceParent(first("traceparent"));
    let result = context;
    if (parent) {
      const state = cleanTraceState(first("tracestate"));
      result = trace.setSpanContext(result, {
        ...parent,
        isRemote: true,
        ...(state ? { traceState: createTraceState(state) } : {}),
      });
    }
    const header = first("baggage");
    const baggage = header ? parseBaggage(header) : null;
    return baggage ? propagation.setBaggage(result, baggage) : result;
  }

  fields(): string[] {
    return ["traceparent", "tracestate", "baggage"];
  }
}
