/**
 * The per-call hot path of the gRPC metrics, shared by the server side
 * (every served call) and the client side (every call to a dependency):
 * a map lookup and number bumps at each end, no allocation.
 * @module
 */
import { GO_CODE_NAMES, Status } from "../core/errors.ts";
import type { CallKind } from "../core/context.ts";
import { addMethod, addTiming, type GrpcStats, HANDLING_BUCKETS } from "./grpc_stats.ts";
import { observe } from "./snapshot_values.ts";

/**
 * What the observer reads of a call: the part a server call (`ServerCall`)
 * and an outgoing call (`ClientCall`) share, so one observer fits both.
 */
export interface ObservedCall {
  /** `/pkg.Service/Method`. */
  readonly method: string;
  readonly service: string;
  readonly methodName: string;
  readonly kind: CallKind;
  readonly messagesReceived: number;
  readonly messagesSent: number;
}

/** Counts calls into {@link GrpcStats}; fits both `CallObserver` and `ClientObserver`. */
export interface StatsObserver {
  started(call: ObservedCall): void;
  finished(call: ObservedCall, code: number, durationMs: number): void;
}

/**
 * Methods added on their first call when not pre-initialised, at most this
 * many per side, so arbitrary method names cannot grow the series without bound.
 */
export const MAX_LATE_METHODS = 256;

/**
 * Creates the observer counting into `stats`: started and in flight at the
 * start; handled by code, messages and the latency histogram at the end.
 * A method not in `stats` is added on its first call, up to
 * {@link MAX_LATE_METHODS}; calls past that are not counted (but still run).
 *
 * @example
 * ```ts
 * import { createGrpcStats } from "./grpc_stats.ts";
 * import { createStatsObserver } from "./stats_observer.ts";
 * const stats = createGrpcStats(false);
 * const observer = createStatsObserver(stats);
 * const call = {
 *   method: "/demo.Echo/Unary", service: "demo.Echo", methodName: "Unary",
 *   kind: "unary", messagesReceived: 1, messagesSent: 1,
 * } as const;
 * observer.started(call);
 * observer.finished(call, 0, 1.5);
 * ```
 */
export function createStatsObserver(stats: GrpcStats): StatsObserver {
  let lateMethods = 0;
  return {
    started(call) {
      let method = stats.byPath.get(call.method);
      if (method === undefined) {
        if (lateMethods >= MAX_LATE_METHODS) return;
        lateMethods++;
        method = addMethod(stats, call.service, call.methodName, call.kind);
      }
      method.started++;
      method.inFlight++;
      stats.inFlight++;
    },
    finished(call, code, durationMs) {
      // Past the late-method cap, started() counted nothing either.
      const method = stats.byPath.get(call.method);
      if (method === undefined) return;
      // A code outside 0..16 cannot be labelled by name; grpc-go would also see it as Unknown.
      if (!(code >= 0 && code < GO_CODE_NAMES.length && (code | 0) === code)) {
        code = Status.UNKNOWN;
      }
      method.inFlight--;
      stats.inFlight--;
      method.handled[code]++;
      method.received += call.messagesReceived;
      method.sent += call.messagesSent;
      observe(
        method.timing[code] ?? addTiming(stats, method, code),
        HANDLING_BUCKETS,
        durationMs / 1e3,
      );
    },
  };
}
