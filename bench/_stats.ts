/**
 * The small numeric and text helpers every report uses: min/median/max of
 * repetitions and padded Markdown tables.
 * @module
 */

/** min, median and max of the repetitions. */
export interface Stat {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly n: number;
}

/** min/median/max of `values` (median of an even count is the mean of the middle two). */
export function stat(values: readonly number[]): Stat {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], n: s.length };
}

/** A Markdown table padded to its widest cells; columns after the first align right. */
export function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" | ")} |`;
  const rule = `| ${
    widths.map((w, i) => i === 0 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`).join(" | ")
  } |`;
  return [line(head), rule, ...body.map(line)].join("\n");
}
