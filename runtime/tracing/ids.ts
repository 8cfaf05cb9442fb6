/**
 * Trace and span ids as the W3C headers and the OpenTelemetry API spell
 * them (lowercase hex), made from `Math.random` as OpenTelemetry JS's own
 * id generator does: ids must be unique, not secret, and a call pays for
 * two to six of them. Also the `traceparent` header, parsed and written.
 * @module
 */

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** 32 random bits. */
export function random32(): number {
  return (Math.random() * 0x1_0000_0000) >>> 0;
}

/** `n` (32 bits) as 8 hex digits. */
export function hex8(n: number): string {
  return HEX[n >>> 24] + HEX[(n >>> 16) & 0xff] + HEX[(n >>> 8) & 0xff] + HEX[n & 0xff];
}

/** Eight hex digits of `hex` from `at` as a 32-bit word (digits checked before: ids are valid hex). */
export function hexWord(hex: string, at: number): number {
  let word = 0;
  for (let i = at; i < at + 8; i++) {
    const c = hex.charCodeAt(i);
    // '0'-'9' have bit 6 clear; 'a'-'f' and 'A'-'F' have it set and 1-6 in the low bits.
    word = (word << 4) | ((c & 0xf) + (c >> 6) * 9);
  }
  return word >>> 0;
}

/** A new span id: 16 hex digits, never all zero. */
export function newSpanId(): string {
  const high = random32();
  return hex8(high) + hex8(high === 0 ? random32() | 1 : random32());
}

/**
 * A new trace id whose low 32 bits are `low32`: the sampler's random draw,
 * so the ratio decision is a function of the trace id as the specification
 * asks (see sampler.ts). Never all zero.
 */
export function newTraceId(low32: number): string {
  return hex8(random32() | 1) + hex8(random32()) + hex8(random32()) + hex8(low32);
}

/** The low 32 bits of a trace id, as the ratio sampler reads them. */
export function traceIdLow32(traceId: string): number {
  return parseInt(traceId.slice(24), 16) >>> 0;
}

/** A `traceparent` header's content. */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  /** W3C trace flags; bit 0 is "sampled". */
  readonly traceFlags: number;
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// A later version may append fields; its first four parts are read the same way.
const FUTURE = /^([0-9a-e][0-9a-f])-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";

/**
 * Parses a `traceparent` header (W3C Trace Context level 1); null when it is
 * missing or invalid, in which case the call starts a new trace.
 */
export function parseTraceParent(value: string | undefined): TraceParent | null {
  if (value === undefined) return null;
  const text = value.trim();
  let traceId: string, spanId: string, flags: string;
  const v0 = VERSION_00.exec(text);
  if (v0) [, traceId, spanId, flags] = v0;
  else {
    const future = FUTURE.exec(text);
    if (!future || future[1] === "00") return null;
    [, , traceId, spanId, flags] = future;
  }
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) };
}

/** The `traceparent` value for a span. */
export function formatTraceParent(traceId: string, spanId: string, traceFlags: number): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 1) === 1 ? "01" : "00"}`;
}

/** The maximum `tracestate` length a vendor may send (W3C: 32 members of up to 256 characters). */
const MAX_TRACE_STATE = 512 * 32;

/** A `tracestate` value kept as received (it is only passed on), or "" when absent or oversized. */
export function cleanTraceState(value: string | undefined): string {
  if (value === undefined) return "";
  const text = value.trim();
  return text.length > MAX_TRACE_STATE ? "" : text;
}
