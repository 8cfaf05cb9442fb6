/**
 * Batches of spans as `ExportTraceServiceRequest`s: one ResourceSpans
 * holding a ScopeSpans per instrumentation scope. Spans are encoded as they
 * end (otlp_encode.ts) into the open batch's buffer, after room left free
 * at its start; sealing writes the request's first fields into that room,
 * right before the spans, and hands the buffer over as the body, with the
 * room before it still free for the HTTP head. So a batch is never copied
 * and leaves in one write: copying a 145 KB batch into a fresh buffer, and
 * a second write for the head, each cost about as much as encoding it
 * (measured; docs/tracing.md, "Cost"). Buffers come back through
 * {@link OtlpTraceEncoder.recycle} once their batch is sent.
 * @module
 */
import type { SpanData } from "./span_data.ts";
import { SpanEncoder } from "./otlp_encode.ts";
import { ProtoWriter, varintSize, WireType } from "./proto_writer.ts";

const { LEN } = WireType;

/** A batch's buffer, to start with; it grows as spans need. */
const BATCH_BUFFER = 64 * 1024;
/** A buffer that grew past this for one huge batch is not reused. */
const RETAIN_MAX = 4 * 1024 * 1024;
/** Sent batches' buffers kept for the next ones: as many as usually wait in the queue. */
const POOL_MAX = 4;
/** Room left at the start of a batch for the HTTP head, to begin with. */
const INITIAL_HEADROOM = 1024;
/** The longest the request's own first fields take, beyond the resource and scope. */
const PREFIX_SLACK = 16;
/** Length bytes reserved for a ScopeSpans in the general path (covers 2 MiB). */
const BATCH_RESERVE = 3;

/** What {@link OtlpTraceEncoder} puts around every batch. */
export interface OtlpTraceEncoderOptions {
  /** A `Resource` body, from otlp_encode.ts's `encodeResource`. */
  readonly resource: Uint8Array;
  /** `InstrumentationScope.name`. */
  readonly scopeName: string;
  /** `InstrumentationScope.version`. */
  readonly scopeVersion: string;
}

/** `tag(field, LEN)`, then the length and `body`. */
function lengthField(field: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter(body.length + 8);
  w.tag(field, LEN);
  w.varint32(body.length);
  w.raw(body);
  return w.finish();
}

function scopeBody(name: string, version: string): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter(name.length * 3 + version.length * 3 + 16);
  w.stringField(1, name);
  w.stringField(2, version);
  return w.finish();
}

function scopeKey(scope: { readonly name: string; readonly version: string }): string {
  return `${scope.name}\u0000${scope.version}`;
}

/** Spans of handler code's tracers, under their own scope. */
interface ForeignGroup {
  /** `ScopeSpans.scope`: tag, length and body. */
  readonly scopeField: Uint8Array;
  readonly writer: ProtoWriter;
}

/**
 * Encodes spans into batches. Not for use by two callers at once; a body
 * from {@link seal} stays valid until it is given to {@link recycle}.
 */
export class OtlpTraceEncoder {
  readonly #spans = new SpanEncoder();
  /** `ResourceSpans.resource`: tag, length and body. */
  readonly #resourceField: Uint8Array;
  /** `ScopeSpans.scope` of svc's own spans: tag, length and body. */
  readonly #scopeField: Uint8Array;
  readonly #scopeName: string;
  readonly #scopeVersion: string;
  /** svc's own spans of the open batch, written from {@link #start} on. */
  readonly #own = new ProtoWriter(BATCH_BUFFER);
  /** Where the open batch's spans begin in {@link #own}: the room before is the prefix's and the head's. */
  #start: number;
  readonly #foreign = new Map<string, ForeignGroup>();
  readonly #pool: ArrayBuffer[] = [];
  #openSpans = 0;

  constructor(options: OtlpTraceEncoderOptions) {
    this.#scopeName = options.scopeName;
    this.#scopeVersion = options.scopeVersion;
    this.#resourceField = lengthField(1, options.resource);
    this.#scopeField = lengthField(1, scopeBody(options.scopeName, options.scopeVersion));
    this.#start = this.#prefixRoom() + INITIAL_HEADROOM;
    this.#own.pos = this.#start;
  }

  /** Encodes `span` into the open batch now, so the span object dies young. */
  append(span: SpanData): void {
    const scope = span.scope;
    if (scope == null || (scope.name === this.#scopeName && scope.version === this.#scopeVersion)) {
      this.#spans.write(this.#own, span);
    } else {
      const key = scopeKey(scope);
      let group = this.#foreign.get(key);
      if (!group) {
        const scopeField = lengthField(1, scopeBody(scope.name, scope.version));
        this.#foreign.set(key, group = { scopeField, writer: new ProtoWriter(4096) });
      }
      this.#spans.write(group.writer, span);
    }
    this.#openSpans++;
  }

  /** Spans appended since the last {@link seal}. */
  get openSpans(): number {
    return this.#openSpans;
  }

  /**
   * The open batch as a whole request, and a new batch opened. The
   * `headroom` bytes before the body in its buffer are free for the caller
   * (the HTTP head); the body is the caller's until {@link recycle}d.
   */
  seal(headroom = 0): Uint8Array<ArrayBuffer> {
    const own = this.#own;
    const spansLength = own.pos - this.#start;
    let body: Uint8Array<ArrayBuffer>;
    if (this.#foreign.size === 0 && this.#start - this.#prefixRoom() >= headroom) {
      body = this.#sealInPlace(spansLength);
      own.adopt(this.#takeBuffer());
    } else {
      body = this.#sealByCopy(spansLength, headroom);
      this.#start = Math.max(this.#start, this.#prefixRoom() + headroom);
    }
    own.pos = this.#start;
    this.#foreign.clear();
    this.#openSpans = 0;
    return body;
  }

  /** Takes back the buffer of a body from {@link seal} that is no longer needed. */
  recycle(body: Uint8Array): void {
    const buffer = body.buffer;
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength > RETAIN_MAX) return;
    if (this.#pool.length < POOL_MAX && !this.#pool.includes(buffer)) this.#pool.push(buffer);
  }

  /**
   * The whole request for `spans`, as a buffer of its own: {@link append}
   * each, then {@link seal} (which takes anything appended before along).
   */
  encode(spans: readonly SpanData[]): Uint8Array<ArrayBuffer> {
    for (let i = 0; i < spans.length; i++) this.append(spans[i]);
    return this.seal();
  }

  /** Bytes the request's first fields can take before the spans. */
  #prefixRoom(): number {
    return this.#resourceField.length + this.#scopeField.length + PREFIX_SLACK;
  }

  #takeBuffer(): Uint8Array<ArrayBuffer> {
    const reused = this.#pool.pop();
    return new Uint8Array(reused ?? new ArrayBuffer(Math.max(BATCH_BUFFER, this.#start * 2)));
  }

  /**
   * Writes the request's fields before svc's spans, right up against them:
   * `resource_spans { resource, scope_spans { scope, spans... } }`. No spans:
   * the resource alone.
   */
  #sealInPlace(spansLength: number): Uint8Array<ArrayBuffer> {
    const own = this.#own;
    const end = own.pos;
    const scopeSpans = spansLength === 0 ? 0 : this.#scopeField.length + spansLength;
    const resourceSpans = this.#resourceField.length +
      (scopeSpans === 0 ? 0 : 1 + varintSize(scopeSpans) + scopeSpans);
    const first = this.#start -
      (scopeSpans === 0 ? 0 : this.#scopeField.length + 1 + varintSize(scopeSpans)) -
      this.#resourceField.length - 1 - varintSize(resourceSpans);
    own.pos = first;
    own.tag(1, LEN); // ExportTraceServiceRequest.resource_spans
    own.varint32(resourceSpans);
    own.raw(this.#resourceField);
    if (scopeSpans !== 0) {
      own.tag(2, LEN); // ResourceSpans.scope_spans
      own.varint32(scopeSpans);
      own.raw(this.#scopeField);
    }
    return own.buf.subarray(first, end);
  }

  /** Assembles a request with spans of several scopes into a new buffer. */
  #sealByCopy(spansLength: number, headroom: number): Uint8Array<ArrayBuffer> {
    const groups = [
      { scopeField: this.#scopeField, bytes: this.#own.buf.subarray(this.#start, this.#own.pos) },
      ...[...this.#foreign.values()].map((group) => ({
        scopeField: group.scopeField,
        bytes: group.writer.buf.subarray(0, group.writer.pos),
      })),
    ].filter((group) => group.bytes.length > 0);
    let total = this.#resourceField.length + 16;
    for (const group of groups) total += group.scopeField.length + group.bytes.length + 8;
    const w = new ProtoWriter(headroom + total + spansLength);
    w.pos = headroom;
    w.tag(1, LEN); // ExportTraceServiceRequest.resource_spans
    const resourceSpans = w.beginLength(BATCH_RESERVE);
    w.raw(this.#resourceField);
    for (const group of groups) {
      w.tag(2, LEN); // ResourceSpans.scope_spans
      const scopeSpans = w.beginLength(BATCH_RESERVE);
      w.raw(group.scopeField);
      w.raw(group.bytes);
      w.endLength(scopeSpans, BATCH_RESERVE);
    }
    w.endLength(resourceSpans, BATCH_RESERVE);
    return w.buf.subarray(headroom, w.pos);
  }
}
