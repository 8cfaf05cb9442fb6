/**
 * Per-method call statistics for the go-grpc-prometheus metrics, kept as
 * plain numbers so the call path allocates nothing and builds no strings.
 * @module
 */
import { GO_CODE_NAMES, Status } from "../core/errors.ts";
import type { CallKind } from "../protos/types.ts";
import type { HistogramSeries, Labels } from "./snapshot_values.ts";

/** go-grpc-prometheus's default `grpc_server_handling_seconds` buckets (Prometheus DefBuckets). */
export const HANDLING_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** The number of gRPC status codes, OK (0) to UNAUTHENTICATED (16). */
export const CODE_COUNT = GO_CODE_NAMES.length;

/** One method's counters; the interceptor finds it by `call.method`. */
export interface MethodStats {
  /** `{grpc_type, grpc_service, grpc_method}`. */
  readonly labels: Labels;
  /** The same plus `grpc_code`, one per status code. */
  readonly codeLabels: readonly Labels[];
  started: number;
  received: number;
  sent: number;
  inFlight: number;
  /** Handled calls per status code. */
  readonly handled: Float64Array;
  /**
   * Histogram series per status code. Without `grpc_code` every slot holds
   * the same series; with it, slots fill on a code's first call.
   */
  readonly timing: (HistogramSeries | undefined)[];
}

/** The statistics of every method seen, in the order they were added. */
export interface GrpcStats {
  readonly withCode: boolean;
  readonly byPath: Map<string, MethodStats>;
  readonly methods: MethodStats[];
  /** Every histogram series, in creation order (for rendering). */
  readonly timings: HistogramSeries[];
  inFlight: number;
}

/** Creates empty statistics; `withCode` adds `grpc_code` to the histogram. */
export function createGrpcStats(withCode: boolean): GrpcStats {
  return { withCode, byPath: new Map(), methods: [], timings: [], inFlight: 0 };
}

/**
 * Adds a method with every series at zero: started, messages, handled for
 * all 17 codes (as go-grpc-prometheus pre-registers them), and the
 * histogram (for OK only when it carries `grpc_code`, since 17 histograms
 * per method would be mostly empty lines). Returns the existing record when
 * the method is known.
 */
export function addMethod(
  stats: GrpcStats,
  service: string,
  name: string,
  kind: CallKind,
): MethodStats {
  const path = `/${service}/${name}`;
  const known = stats.byPath.get(path);
  if (known) return known;
  const labels = Object.freeze({ grpc_type: kind, grpc_service: service, grpc_method: name });
  const method: MethodStats = {
    labels,
    codeLabels: GO_CODE_NAMES.map((code) => Object.freeze({ ...labels, grpc_code: code })),
    started: 0,
    received: 0,
    sent: 0,
    inFlight: 0,
    handled: new Float64Array(CODE_COUNT),
    timing: new Array(CODE_COUNT).fill(undefined),
  };
  if (stats.withCode) {
    addTiming(stats, method, Status.OK);
  } else {
    const series = _histogramSeries(labels);
    stats.timings.push(series);
    method.timing.fill(series);
  }
  stats.byPath.set(path, method);
  stats.methods.push(method);
  return method;
}

/** Creates the histogram series for `code` on its first call (only with `grpc_code`). */
export function addTiming(stats: GrpcStats, method: MethodStats, code: number): HistogramSeries {
  const series = _histogramSeries(method.codeLabels[code]);
  method.timing[code] = series;
  stats.timings.push(series);
  return series;
}

function _histogramSeries(labels: Labels): HistogramSeries {
  return { labels, counts: new Float64Array(HANDLING_BUCKETS.length + 1), sum: 0, count: 0 };
}
