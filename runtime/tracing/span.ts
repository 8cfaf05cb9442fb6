/**
 * The spans svc records: one class for every kind (the call's SERVER span,
 * `ctx.clients`' CLIENT spans, and spans handler code starts through
 * `@opentelemetry/api`), implementing the API's `Span` over the fields the
 * OTLP encoder reads, plus a non-recording span for calls not sampled.
 * Written by hand rather than taken from the OpenTelemetry SDK: the SDK's
 * span costs about 8 µs to start and end (measured on this machine), more
 * than a whole small call here (docs/tracing.md, "Cost").
 * @module
 */
import type {
  Attributes as ApiAttributes,
  Exception,
  HrTime,
  Link,
  Span,
  SpanAttributeValue,
  SpanContext,
  SpanStatus,
  TimeInput,
  TraceState,
} from "@opentelemetry/api";
import { createTraceState } from "@opentelemetry/api";
import type {
  Attributes,
  AttributeValue,
  SpanData,
  SpanEventData,
  SpanIdWords,
  SpanLinkData,
} from "./span_data.ts";
import { hex8, hexWord, newSpanId, newTraceId, random32 } from "./ids.ts";

/** The OpenTelemetry SDK's default span limits. */
const MAX_ATTRIBUTES = 128;
const MAX_EVENTS = 128;
const MAX_LINKS = 128;

/** Epoch ms now, fractional. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Where ended spans go (the batch exporter). */
export interface SpanSink {
  add(span: SpanData): void;
}

/** The instrumentation scope a span was made by: `svc` for the runtime's own spans. */
export interface Scope {
  readonly name: string;
  readonly version: string;
}

/** What a recording span starts from. */
export interface SpanStart {
  readonly sink: SpanSink;
  readonly scope: Scope;
  /** The parent's trace id (hex), or null for a new trace made from `low32`. */
  readonly traceId: string | null;
  /** The low 32 bits of a new trace id (the sampler's draw). */
  readonly low32: number;
  /** The parent's span id (hex), or null for a root span. */
  readonly parentSpanId: string | null;
  readonly parentIsRemote: boolean;
  readonly traceState: string;
  readonly name: string;
  /** OTLP SpanKind number. */
  readonly kind: number;
  /** Epoch ms. */
  readonly startMs: number;
}

/**
 * A sampled span: records until `end()`, then goes to the sink. Its ids
 * are kept as 32-bit words, which the encoder writes as they are; the hex
 * the API and log lines use is made on first use.
 */
export class RecordingSpan implements Span, SpanData, SpanIdWords {
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly s0: number;
  readonly s1: number;
  readonly p0: number;
  readonly p1: number;
  readonly hasParent: boolean;
  readonly parentIsRemote: boolean;
  readonly traceState: string;
  readonly traceFlags = 1;
  readonly kind: number;
  readonly startMs: number;
  readonly scope: Scope;
  readonly words: SpanIdWords;
  name: string;
  endMs = 0;
  fixedAttributes: Uint8Array | null = null;
  peer: string | null = null;
  grpcStatus = -1;
  attributes: Record<string, AttributeValue> | null = null;
  events: SpanEventData[] | null = null;
  links: SpanLinkData[] | null = null;
  statusCode = 0;
  statusMessage = "";
  droppedAttributes = 0;
  droppedEvents = 0;
  droppedLinks = 0;
  /** The call's incoming `baggage` header (server spans), passed on by the tracer. */
  baggage: string | undefined = undefined;
  #sink: SpanSink | null;
  #context: SpanContext | null = null;
  #traceId: string | null;
  #spanId: string | null = null;

  constructor(start: SpanStart) {
    this.#sink = start.sink;
    this.scope = start.scope;
    const traceId = start.traceId;
    this.#traceId = traceId;
    if (traceId === null) {
      this.t0 = random32() | 1; // never all zero
      this.t1 = random32();
      this.t2 = random32();
      this.t3 = start.low32;
    } else {
      this.t0 = hexWord(traceId, 0);
      this.t1 = hexWord(traceId, 8);
      this.t2 = hexWord(traceId, 16);
      this.t3 = hexWord(traceId, 24);
    }
    this.s0 = random32() | 1;
    this.s1 = random32();
    const parent = start.parentSpanId;
    this.hasParent = parent !== null;
    this.p0 = parent === null ? 0 : hexWord(parent, 0);
    this.p1 = parent === null ? 0 : hexWord(parent, 8);
    this.parentIsRemote = start.parentIsRemote;
    this.traceState = start.traceState;
    this.name = start.name;
    this.kind = start.kind;
    this.startMs = start.startMs;
    this.words = this;
  }

  get traceId(): string {
    return this.#traceId ??= hex8(this.t0) + hex8(this.t1) + hex8(this.t2) + hex8(this.t3);
  }
  get spanId(): string {
    return this.#spanId ??= hex8(this.s0) + hex8(this.s1);
  }
  get parentSpanId(): string | null {
    return this.hasParent ? hex8(this.p0) + hex8(this.p1) : null;
  }

  spanContext(): SpanContext {
    return this.#context ??= spanContextOf(this.traceId, this.spanId, 1, this.traceState);
  }
  setAttribute(key: string, value: SpanAttributeValue | undefined): this {
    if (this.#sink === null || value === undefined || value === null) return this;
    const attributes = this.attributes ??= {};
    if (!(key in attributes) && Object.keys(attributes).length >= MAX_ATTRIBUTES) {
      this.droppedAttributes++;
    } else attributes[key] = value as AttributeValue;
    return this;
  }
  setAttributes(attributes: ApiAttributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }
  addEvent(name: string, attributesOrTime?: ApiAttributes | TimeInput, time?: TimeInput): this {
    if (this.#sink === null) return this;
    let attributes: Attributes | null = null;
    if (isTimeInput(attributesOrTime)) time = attributesOrTime;
    else if (attributesOrTime) attributes = attributesOrTime as Attributes;
    const events = this.events ??= [];
    if (events.length >= MAX_EVENTS) this.droppedEvents++;
    else events.push({ name, timeMs: time === undefined ? nowMs() : toEpochMs(time), attributes });
    return this;
  }
  addLink(link: Link): this {
    if (this.#sink === null) return this;
    const links = this.links ??= [];
    if (links.length >= MAX_LINKS) this.droppedLinks++;
    else {
      links.push({
        traceId: link.context.traceId,
        spanId: link.context.spanId,
        traceState: link.context.traceState?.serialize() ?? "",
        attributes: (link.attributes ?? null) as Attributes | null,
      });
    }
    return this;
  }
  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }
  setStatus(status: SpanStatus): this {
    if (this.#sink === null) return this;
    // OK is final, as the specification says; UNSET cannot undo an error.
    if (this.statusCode === 1 || status.code === 0) return this;
    this.statusCode = status.code;
    this.statusMessage = status.code === 2 ? status.message ?? "" : "";
    return this;
  }
  updateName(name: string): this {
    if (this.#sink !== null) this.name = name;
    return this;
  }
  end(endTime?: TimeInput): void {
    this.endAt(endTime === undefined ? nowMs() : toEpochMs(endTime));
  }
  /** Ends the span at `epochMs` (a clock the caller read anyway). */
  endAt(epochMs: number): void {
    const sink = this.#sink;
    if (sink === null) return;
    this.#sink = null;
    this.endMs = epochMs;
    sink.add(this);
  }
  isRecording(): boolean {
    return this.#sink !== null;
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.addEvent("exception", exceptionAttributes(exception), time);
  }
}

/**
 * A span that is not sampled: it records nothing but has ids, which are
 * passed on to the services it calls (flag 00, so they do not sample it
 * either) and written in log lines. Made lazily: most unsampled calls never
 * read them, and the ratio sampler's whole point is that they cost nothing.
 */
export class UnsampledSpan implements Span {
  #traceId: string | null;
  #low32: number;
  #traceState: string;
  #context: SpanContext | null = null;

  /**
   * Started by handler code where no call's context was entered (an
   * unsampled call, or outside calls): its trace id is its own, not the
   * call's, so `ctx.clients` passes on the call's context instead.
   */
  readonly orphan: boolean;
  /** The call's incoming `baggage` header (server spans). */
  baggage: string | undefined = undefined;

  /** `traceId` of the parent, or null to make one from `low32`. */
  constructor(traceId: string | null, low32: number, traceState: string, orphan = false) {
    this.#traceId = traceId;
    this.#low32 = low32;
    this.#traceState = traceState;
    this.orphan = orphan;
  }
  spanContext(): SpanContext {
    return this.#context ??= spanContextOf(
      this.#traceId ??= newTraceId(this.#low32),
      newSpanId(),
      0,
      this.#traceState,
    );
  }
  setAttribute(): this {
    return this;
  }
  setAttributes(): this {
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {}
  isRecording(): boolean {
    return false;
  }
  recordException(): void {}
}

function spanContextOf(
  traceId: string,
  spanId: string,
  traceFlags: number,
  traceState: string,
): SpanContext {
  const context: SpanContext = { traceId, spanId, traceFlags, isRemote: false };
  if (traceState !== "") context.traceState = createTraceState(traceState) as TraceState;
  return context;
}

/** The `exception` event's attributes, as the semantic conventions name them. */
export function exceptionAttributes(exception: Exception): Attributes {
  if (typeof exception === "string") return { "exception.message": exception };
  const error = exception as {
    name?: string;
    code?: string | number;
    message?: string;
    stack?: string;
  };
  return {
    "exception.type": error.name ?? (error.code === undefined ? undefined : String(error.code)),
    "exception.message": error.message,
    "exception.stacktrace": error.stack,
  };
}

function isTimeInput(value: unknown): value is TimeInput {
  return typeof value === "number" || value instanceof Date ||
    (Array.isArray(value) && value.length === 2 && typeof value[0] === "number");
}

/**
 * The API's time input as epoch ms: an `HrTime` ([seconds, nanoseconds]), a
 * `Date`, or a number, which the OpenTelemetry SDK reads as epoch ms when it
 * is later than the process's time origin and as `performance.now()` otherwise.
 */
export function toEpochMs(time: TimeInput): number {
  if (typeof time === "number") {
    return time < performance.timeOrigin ? performance.timeOrigin + time : time;
  }
  if (time instanceof Date) return time.getTime();
  const [seconds, nanos] = time as HrTime;
  return seconds * 1e3 + nanos / 1e6;
}
