/**
 * Parses human durations such as `"500ms"`, `"10s"` or `"1h30m"` into
 * milliseconds.
 * @module
 */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)([a-zA-Zµ]*)/y;

/**
 * Parses a duration made of one or more `<number><unit>` parts, with units
 * `ms`, `s`, `m` and `h`, into whole milliseconds. `"0"` is the only value
 * allowed without a unit.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("1h30m"); // 5400000
 * ```
 * @throws {SyntaxError} with a message like `cannot parse duration "10x": unknown unit "x" (use ms, s, m or h)`
 */
export function parseDuration(text: string): number {
  const source = text.trim();
  const fail = (reason: string) => new SyntaxError(`cannot parse duration "${text}": ${reason}`);
  if (source === "") throw fail("it is empty");
  if (source === "0") return 0;
  if (/^\d+(\.\d+)?$/.test(source)) {
    throw fail(`it has no unit (write "${source}s" or "${source}ms")`);
  }
  let total = 0;
  let index = 0;
  while (index < source.length) {
    PART.lastIndex = index;
    const match = PART.exec(source);
    if (!match || match[0] === "") {
      throw fail(`expected a number followed by ms, s, m or h at "${source.slice(index)}"`);
    }
    const [, amount, unit] = match;
    const scale = UNITS[unit];
    if (unit === "") throw fail(`"${amount}" has no unit (use ms, s, m or h)`);
    if (scale === undefined) throw fail(`unknown unit "${unit}" (use ms, s, m or h)`);
    total += Number(amount) * scale;
    index = PART.lastIndex;
  }
  return Math.round(total);
}

/**
 * Formats milliseconds as the shortest duration string `parseDuration()`
 * accepts back, such as `"1h30m"` or `"250ms"`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * formatDuration(90_000); // "1m30s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  let rest = ms;
  let out = "";
  for (const [unit, scale] of [["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    const count = Math.floor(rest / scale);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * scale;
  }
  return out;
}
