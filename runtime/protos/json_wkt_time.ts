/**
 * google.protobuf.Timestamp and Duration in their canonical JSON strings:
 * `"1972-01-01T10:00:20.021Z"` and `"1.000340012s"`, with 0, 3, 6 or 9
 * fractional digits on output.
 * @module
 */
import { describeJson, JsonMappingError } from "./json_error.ts";
import type { JsonValue } from "./json_parse.ts";

/** Seconds and nanoseconds, as `toObject` gives them and `fromObject` takes them. */
export interface SecondsNanos {
  seconds: string;
  nanos: number;
}

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range RFC 3339 can write.
const _MIN_TIMESTAMP = -62135596800n;
const _MAX_TIMESTAMP = 253402300799n;
// About 10,000 years, the range the Duration docs give.
const _MAX_DURATION = 315576000000n;
const _TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const _DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

/**
 * A Timestamp as an RFC 3339 string in UTC.
 *
 * @example
 * ```ts
 * writeTimestamp({ seconds: "63108020", nanos: 21000000 }, "t"); // "1972-01-01T10:00:20.021Z"
 * ```
 */
export function writeTimestamp(value: SecondsNanos, path: string): string {
  const seconds = BigInt(value.seconds);
  const nanos = value.nanos;
  if (seconds < _MIN_TIMESTAMP || seconds > _MAX_TIMESTAMP || nanos < 0 || nanos > 999_999_999) {
    throw new JsonMappingError(path, `Timestamp ${seconds}s ${nanos}ns is out of range`);
  }
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, 19)}${_fraction(nanos)}Z`;
}

/**
 * An RFC 3339 string (any offset) as a Timestamp.
 *
 * @example
 * ```ts
 * readTimestamp("1972-01-01T11:00:20.021+01:00", "t"); // { seconds: "63108020", nanos: 21000000 }
 * ```
 */
export function readTimestamp(json: JsonValue, path: string): SecondsNanos {
  const m = typeof json === "string" ? _TIMESTAMP.exec(json) : null;
  if (!m) {
    throw new JsonMappingError(path, `expected an RFC 3339 timestamp, got ${describeJson(json)}`);
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second);
  const valid = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
  if (!valid) throw new JsonMappingError(path, `invalid date or time in "${json}"`);
  let seconds = BigInt(date.getTime() / 1000);
  if (m[8]) {
    const offset = BigInt(Number(m[9]) * 3600 + Number(m[10]) * 60);
    seconds += m[8] === "+" ? -offset : offset;
  }
  if (seconds < _MIN_TIMESTAMP || seconds > _MAX_TIMESTAMP) {
    throw new JsonMappingError(path, `timestamp "${json}" is out of range`);
  }
  return { seconds: seconds.toString(), nanos: Number((m[7] ?? "").padEnd(9, "0")) };
}

/**
 * A Duration as seconds with an `s` suffix.
 *
 * @example
 * ```ts
 * writeDuration({ seconds: "-1", nanos: -500000000 }, "d"); // "-1.500s"
 * ```
 */
export function writeDuration(value: SecondsNanos, path: string): string {
  const seconds = BigInt(value.seconds);
  const nanos = value.nanos;
  const signsDisagree = (seconds < 0n && nanos > 0) || (seconds > 0n && nanos < 0);
  if (
    seconds < -_MAX_DURATION || seconds > _MAX_DURATION || Math.abs(nanos) > 999_999_999 ||
    signsDisagree
  ) {
    throw new JsonMappingError(path, `Duration ${seconds}s ${nanos}ns is out of range`);
  }
  const negative = seconds < 0n || nanos < 0;
  const whole = seconds < 0n ? -seconds : seconds;
  return `${negative ? "-" : ""}${whole}${_fraction(Math.abs(nanos))}s`;
}

/**
 * A `"<seconds>[.<fraction>]s"` string as a Duration.
 *
 * @example
 * ```ts
 * readDuration("1.000340012s", "d"); // { seconds: "1", nanos: 340012 }
 * ```
 */
export function readDuration(json: JsonValue, path: string): SecondsNanos {
  const m = typeof json === "string" ? _DURATION.exec(json) : null;
  if (!m) {
    throw new JsonMappingError(path, `expected a duration like "1.5s", got ${describeJson(json)}`);
  }
  const seconds = BigInt(m[2]);
  if (seconds > _MAX_DURATION) {
    throw new JsonMappingError(path, `duration "${json}" is out of range`);
  }
  const nanos = Number((m[3] ?? "").padEnd(9, "0"));
  const sign = m[1] ? -1 : 1;
  return { seconds: (m[1] ? -seconds : seconds).toString(), nanos: sign * nanos || 0 };
}

function _fraction(nanos: number): string {
  if (nanos === 0) return "";
  const digits = String(nanos).padStart(9, "0");
  if (nanos % 1_000_000 === 0) return `.${digits.slice(0, 3)}`;
  if (nanos % 1_000 === 0) return `.${digits.slice(0, 6)}`;
  return `.${digits}`;
}
