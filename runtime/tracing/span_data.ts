/**
 * What a finished span holds for export: the shape the OTLP encoder reads.
 * Spans keep ids as lowercase hex (what W3C headers and the OpenTelemetry
 * API use) and times as epoch milliseconds; the encoder turns them into
 * OTLP's bytes and nanoseconds once per batch, off the call path.
 * @module
 */

/** An attribute value, as the OpenTelemetry API allows. */
export type AttributeValue =
  | string
  | number
  | boolean
  | readonly string[]
  | readonly number[]
  | readonly boolean[];

/** Attributes by key; an undefined or null value is skipped. */
export type Attributes = Record<string, AttributeValue | undefined | null>;

/** OTLP's SpanKind numbers. */
export const SpanKindCode = {
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;

/** OTLP's Status.code numbers. */
export const StatusCodeValue = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** A span event. */
export interface SpanEventData {
  readonly name: string;
  /** Epoch ms, fractional. */
  readonly timeMs: number;
  readonly attributes: Attributes | null;
}

/** A link to another span. */
export interface SpanLinkData {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly attributes: Attributes | null;
}

/**
 * Ids kept as 32-bit words (big-endian order), as svc's own spans keep
 * them: the encoder writes these instead of reading hex, and the hex is
 * made only when something asks for it.
 */
export interface SpanIdWords {
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly s0: number;
  readonly s1: number;
  readonly hasParent: boolean;
  /** Only when {@link hasParent}. */
  readonly p0: number;
  readonly p1: number;
}

/** A finished span. */
export interface SpanData {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** 16 lowercase hex digits, or null for a root span. */
  readonly parentSpanId: string | null;
  /** Whether the parent came from another process (a `traceparent` header). */
  readonly parentIsRemote: boolean;
  /** The W3C `tracestate` value, "" for none. */
  readonly traceState: string;
  /** W3C trace flags (bit 0: sampled). */
  readonly traceFlags: number;
  readonly name: string;
  /** One of {@link SpanKindCode}. */
  readonly kind: number;
  /** Epoch ms, fractional (performance.timeOrigin + performance.now()). */
  readonly startMs: number;
  readonly endMs: number;
  /**
   * Attributes shared by many spans (a method's `rpc.*`, the server's
   * address), already encoded as OTLP `KeyValue` entries of field 9 of
   * `Span`, written as they are; null for none.
   */
  readonly fixedAttributes: Uint8Array | null;
  /** `ip:port` of the other end; becomes `network.peer.address` and `network.peer.port`. */
  readonly peer: string | null;
  /** The gRPC status code; becomes `rpc.grpc.status_code`. -1: none. */
  readonly grpcStatus: number;
  /** Any further attributes, or null. */
  readonly attributes: Attributes | null;
  readonly events: readonly SpanEventData[] | null;
  readonly links: readonly SpanLinkData[] | null;
  /** One of {@link StatusCodeValue}. */
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly droppedAttributes: number;
  readonly droppedEvents: number;
  readonly droppedLinks: number;
  /**
   * The instrumentation scope (the tracer's name and version) when it is not
   * the encoder's own (`svc`): spans handler code starts through
   * `@opentelemetry/api`. Absent or null: the encoder's scope.
   */
  readonly scope?: { readonly name: string; readonly version: string } | null;
  /** The ids as words, when the span keeps them so; then they are written from these. */
  readonly words?: SpanIdWords | null;
}
