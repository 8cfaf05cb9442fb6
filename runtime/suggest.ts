/**
 * "Did you mean" suggestions for misspelled keys, services and methods.
 * @module
 */

/**
 * The candidate closest to `input`, if it is close enough to be a likely
 * typo: a case-insensitive match, or within edit distance 3 (and less than
 * half the input's length).
 *
 * @example
 * ```ts
 * suggest("prot", ["protos", "server"]); // "protos"
 * ```
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate.toLowerCase() === lower) return candidate;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 2)));
  return bestDistance <= limit ? best : undefined;
}

/** `input (did you mean "x"?)`-style tail, or "" when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const hit = suggest(input, candidates);
  return hit === undefined ? "" : ` (did you mean "${hit}"?)`;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}
