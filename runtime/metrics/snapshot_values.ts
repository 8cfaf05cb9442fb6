/**
 * The plain numbers svc's metrics live in, and the one function the call
 * path uses on them. No prom-client here: the call path must not load it
 * (snapshot.ts turns these into prom-client metrics at scrape time).
 * @module
 */

/** Label names and values of one series; built once and reused for every scrape. */
export type Labels = Readonly<Record<string, string>>;

/** One series as a counter or gauge reports it. */
export interface SeriesValue {
  readonly labels: Labels;
  readonly value: number;
}

/** One histogram series: counts per bucket (not cumulative; last slot is +Inf), sum and count. */
export interface HistogramSeries {
  readonly labels: Labels;
  /** `buckets.length + 1` slots: slot i counts observations in (bucket[i-1], bucket[i]]. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** Adds one observation to `series`; `bounds` are the bucket upper bounds, ascending. */
export function observe(series: HistogramSeries, bounds: readonly number[], value: number): void {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  series.counts[i]++;
  series.sum += value;
  series.count++;
}
