/**
 * OTLP/protobuf encoding of finished spans and their attributes, the parts
 * of an `ExportTraceServiceRequest` (otlp_batch.ts puts them together).
 * Written by hand over a reused buffer ({@link ProtoWriter}) rather than
 * through generated message objects, because the exporter encodes every
 * span the server traces and the object-per-field route costs more than
 * the spans themselves.
 *
 * Field numbers are opentelemetry-proto 1.x's (checked against the
 * descriptors of PyPI's opentelemetry-proto 1.45); only fields that differ
 * from their default are written, in field-number order, as protobuf's own
 * serializers do. Oneof members (AnyValue's) are always written: for them
 * presence is the value.
 * @module
 */
import type { Attributes, AttributeValue, SpanData } from "./span_data.ts";
import { ProtoWriter, varintSize, WireType } from "./proto_writer.ts";
import { EncodingCache } from "./encoding_cache.ts";

const { VARINT, I64, LEN, I32 } = WireType;

/** Span.flags bit 8: the flags say whether the parent is remote. */
const HAS_IS_REMOTE = 0x100;
/** Span.flags bit 9: the parent is remote. */
const IS_REMOTE = 0x200;

// Spans are mostly 128 bytes to 16 KiB long; their parts (attributes,
// events, status) mostly under 128. Reserving that many length bytes means
// the bodies almost never have to move once written.
const SPAN_RESERVE = 2;
const PART_RESERVE = 1;

/** Writes `attrs` as `KeyValue` entries of `field`, skipping null and undefined values. */
function writeAttributes(w: ProtoWriter, attrs: Attributes, field: number): void {
  for (const key in attrs) {
    const value = attrs[key];
    if (value === null || value === undefined) continue;
    w.tag(field, LEN);
    const kv = w.beginLength(PART_RESERVE);
    if (key !== "") {
      w.tag(1, LEN); // KeyValue.key
      w.string(key);
    }
    w.tag(2, LEN); // KeyValue.value
    const any = w.beginLength(PART_RESERVE);
    writeAnyValue(w, value);
    w.endLength(any, PART_RESERVE);
    w.endLength(kv, PART_RESERVE);
  }
}

/**
 * The body of an `AnyValue`. Safe integers are int_value (so 3 and 3.0 are
 * the same, as JavaScript has it), other numbers double_value. A null array
 * element, or a value of a type the API does not allow, is an empty
 * AnyValue, which OTLP reads as "no value" and keeps array positions.
 */
function writeAnyValue(w: ProtoWriter, value: AttributeValue | null | undefined): void {
  switch (typeof value) {
    case "string":
      w.tag(1, LEN);
      w.string(value);
      return;
    case "boolean":
      w.tag(2, VARINT);
      w.varint32(value ? 1 : 0);
      return;
    case "number":
      if (Number.isSafeInteger(value)) {
        w.tag(3, VARINT);
        w.int64(value);
      } else {
        w.tag(4, I64);
        w.double(value);
      }
      return;
  }
  if (!Array.isArray(value)) return;
  w.tag(5, LEN); // AnyValue.array_value
  const array = w.beginLength(PART_RESERVE);
  for (let i = 0; i < value.length; i++) {
    w.tag(1, LEN); // ArrayValue.values
    const item = w.beginLength(PART_RESERVE);
    writeAnyValue(w, value[i]);
    w.endLength(item, PART_RESERVE);
  }
  w.endLength(array, PART_RESERVE);
}

/**
 * `attrs` encoded as `KeyValue` entries of field `field` (9 for
 * `Span.attributes`): how {@link SpanData.fixedAttributes} is made, once
 * per method or server.
 */
export function encodeAttributes(attrs: Attributes, field: number): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter(256);
  writeAttributes(w, attrs, field);
  return w.finish();
}

/** The body of a `Resource` message with `attrs`, for {@link OtlpTraceEncoderOptions.resource}. */
export function encodeResource(attrs: Attributes): Uint8Array<ArrayBuffer> {
  return encodeAttributes(attrs, 1);
}

/** `tag(1, LEN)`, length and UTF-8 of `key`: a constant `KeyValue.key` to copy. */
function keyField(key: string): Uint8Array {
  const w = new ProtoWriter(key.length + 8);
  w.tag(1, LEN);
  w.string(key);
  return w.finish();
}

const PEER_ADDRESS_KEY = keyField("network.peer.address");
const PEER_PORT_KEY = keyField("network.peer.port");
const GRPC_STATUS_KEY = keyField("rpc.grpc.status_code");

/** Span attribute (field 9) `key` = the string `s.slice(start, end)`. */
function writeStringAttribute(
  w: ProtoWriter,
  key: Uint8Array,
  s: string,
  start: number,
  end: number,
): void {
  w.tag(9, LEN);
  const kv = w.beginLength(PART_RESERVE);
  w.raw(key);
  w.tag(2, LEN);
  const any = w.beginLength(PART_RESERVE);
  w.tag(1, LEN);
  w.stringRange(s, start, end);
  w.endLength(any, PART_RESERVE);
  w.endLength(kv, PART_RESERVE);
}

/** Span attribute (field 9) `key` = the int `v` (0 ≤ v < 2^31). */
function writeIntAttribute(w: ProtoWriter, key: Uint8Array, v: number): void {
  const anyLen = 1 + varintSize(v);
  w.tag(9, LEN);
  w.varint32(key.length + 2 + anyLen);
  w.raw(key);
  w.tag(2, LEN);
  w.varint32(anyLen);
  w.tag(3, VARINT);
  w.varint32(v);
}

/**
 * `network.peer.address` and `network.peer.port` from "ip:port",
 * "[v6]:port", "[v6]" or a bare address. Anything else (a bare v6 address,
 * a socket path, a port past 65535) is all address. Read in place by char
 * code: indexOf and lastIndexOf cost more than the whole span otherwise.
 */
function writePeer(w: ProtoWriter, peer: string): void {
  const n = peer.length;
  // The port: up to five digits at the end, after a colon.
  let port = 0;
  let i = n;
  for (let scale = 1; i > 0 && n - i <= 5; scale *= 10, i--) {
    const d = peer.charCodeAt(i - 1) - 48;
    if (d < 0 || d > 9) break;
    port += d * scale;
  }
  let colon = i - 1;
  if (i === n || n - i > 5 || port > 65535 || peer.charCodeAt(colon) !== 0x3a) colon = -1;
  let start = 0;
  let end = n;
  if (peer.charCodeAt(0) === 0x5b /* [ */) {
    if (colon > 0 && peer.charCodeAt(colon - 1) === 0x5d /* ] */) {
      start = 1;
      end = colon - 1;
    } else if (peer.charCodeAt(n - 1) === 0x5d) {
      start = 1;
      end = n - 1;
      colon = -1;
    } else colon = -1;
  } else if (colon >= 0) {
    // With another colon it is a bare v6 address; its last group only looks like a port.
    for (let j = 0; j < colon; j++) {
      if (peer.charCodeAt(j) === 0x3a) {
        colon = -1;
        break;
      }
    }
    if (colon >= 0) end = colon;
  }
  if (end > start) writeStringAttribute(w, PEER_ADDRESS_KEY, peer, start, end);
  if (colon >= 0) writeIntAttribute(w, PEER_PORT_KEY, port);
}

/** The `rpc.grpc.status_code` attribute for each gRPC code, whole, to copy. */
const GRPC_STATUS_FIELDS = Array.from({ length: 17 }, (_, code) => {
  const w = new ProtoWriter(64);
  writeIntAttribute(w, GRPC_STATUS_KEY, code);
  return w.finish();
});

/**
 * Writes spans as OTLP `Span` messages. Keeps the encodings of the strings
 * that recur from span to span; one per encoder.
 */
export class SpanEncoder {
  // A server's span names are its methods, and its peers its connections:
  // copying their bytes costs a fraction of encoding them again.
  #names = new EncodingCache((w, name) => w.stringField(5, name));
  #peers = new EncodingCache(writePeer);

  /** Appends `s` as one `ScopeSpans.spans` entry. */
  write(w: ProtoWriter, s: SpanData): void {
    w.tag(2, LEN); // ScopeSpans.spans
    const span = w.beginLength(SPAN_RESERVE);
    const ids = s.words;
    if (ids) {
      w.wordsField(1, ids.t0, ids.t1, ids.t2, ids.t3);
      w.wordsField(2, ids.s0, ids.s1);
    } else {
      w.hexField(1, s.traceId);
      w.hexField(2, s.spanId);
    }
    w.stringField(3, s.traceState);
    if (!ids) w.hexField(4, s.parentSpanId);
    else if (ids.hasParent) w.wordsField(4, ids.p0, ids.p1);
    if (s.name) this.#names.write(w, s.name);
    w.uint32Field(6, s.kind);
    w.timeField(7, s.startMs);
    w.timeField(8, s.endMs);
    if (s.peer) this.#peers.write(w, s.peer);
    const code = s.grpcStatus;
    if (code >= 0 && code < GRPC_STATUS_FIELDS.length) w.raw(GRPC_STATUS_FIELDS[code]);
    else if (code >= 0) writeIntAttribute(w, GRPC_STATUS_KEY, code);
    if (s.fixedAttributes) w.raw(s.fixedAttributes);
    if (s.attributes) writeAttributes(w, s.attributes, 9);
    w.uint32Field(10, s.droppedAttributes);
    const events = s.events;
    if (events) {
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        w.tag(11, LEN);
        const event = w.beginLength(PART_RESERVE);
        w.timeField(1, e.timeMs);
        w.stringField(2, e.name);
        if (e.attributes) writeAttributes(w, e.attributes, 3);
        w.endLength(event, PART_RESERVE);
      }
    }
    w.uint32Field(12, s.droppedEvents);
    const links = s.links;
    if (links) {
      for (let i = 0; i < links.length; i++) {
        const l = links[i];
        w.tag(13, LEN);
        const link = w.beginLength(PART_RESERVE);
        w.hexField(1, l.traceId);
        w.hexField(2, l.spanId);
        w.stringField(3, l.traceState);
        if (l.attributes) writeAttributes(w, l.attributes, 4);
        // Link.flags stays unset: SpanLinkData does not say whether the
        // linked context was remote, and 0 is OTLP's "unknown".
        w.endLength(link, PART_RESERVE);
      }
    }
    w.uint32Field(14, s.droppedLinks);
    if (s.statusCode || s.statusMessage) {
      w.tag(15, LEN);
      const status = w.beginLength(PART_RESERVE);
      w.stringField(2, s.statusMessage);
      w.uint32Field(3, s.statusCode);
      w.endLength(status, PART_RESERVE);
    }
    w.tag(16, I32);
    w.fixed32((s.traceFlags & 0xff) | HAS_IS_REMOTE | (s.parentIsRemote ? IS_REMOTE : 0));
    w.endLength(span, SPAN_RESERVE);
  }
}
