/**
 * The span `ctx.span` is when the call is not traced (tracing off, or a
 * health or reflection call): every method does nothing, as the
 * OpenTelemetry API's non-recording span does. Written here rather than
 * taken from `@opentelemetry/api` so that, with tracing off, no
 * OpenTelemetry module is loaded at all.
 * @module
 */
import type { Span, SpanContext } from "@opentelemetry/api";

/** The invalid span context (all-zero ids, not sampled), as the API defines it. */
const INVALID: SpanContext = Object.freeze({
  traceId: "00000000000000000000000000000000",
  spanId: "0000000000000000",
  traceFlags: 0,
});

/** A span that records nothing. */
export const NOOP_SPAN: Span = Object.freeze({
  spanContext: () => INVALID,
  setAttribute: () => NOOP_SPAN,
  setAttributes: () => NOOP_SPAN,
  addEvent: () => NOOP_SPAN,
  addLink: () => NOOP_SPAN,
  addLinks: () => NOOP_SPAN,
  setStatus: () => NOOP_SPAN,
  updateName: () => NOOP_SPAN,
  end: () => {},
  isRecording: () => false,
  recordException: () => {},
}) as Span;
