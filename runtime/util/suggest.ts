/**
 * "Did you mean" suggestions for misspelled keys, services and methods.
 * @module
 */

/**
 * Levenshtein distance: the fewest single-character inserts, deletes and
 * substitutions that turn `a` into `b`.
 *
 * @example
 * ```ts
 * import { editDistance } from "./suggest.ts";
 * editDistance("prot", "protos"); // 2
 * ```
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Picks the candidate closest to `input`: a case-insensitive match first,
 * else the nearest one within an edit distance of 3 (and shorter than the
 * candidate itself, so short inputs do not match everything). Undefined when
 * nothing is close.
 *
 * @example
 * ```ts
 * import { suggest } from "./suggest.ts";
 * suggest("prot", ["server", "protos"]); // "protos"
 * ```
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate.toLowerCase() === lower) return candidate;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance && distance <= 3 && distance < candidate.length) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` when something is close to `input`, else "". */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const hit = suggest(input, candidates);
  return hit === undefined ? "" : ` (did you mean "${hit}"?)`;
}
