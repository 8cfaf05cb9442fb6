/**
 * The messages between the supervisor (the main thread of `svc run` with
 * `server.workers` > 1) and its workers. Plain data only: they cross
 * threads by structured clone.
 * @module
 */
import type { ServingStatus } from "../../health/state.ts";

/** What a worker needs to load and serve the same app as the supervisor. */
export interface WorkerStart {
  readonly kind: "start";
  /** 0-based, for log lines. */
  readonly index: number;
  readonly configPath: string;
  /**
   * The build manifest module (`svc build`): the worker imports its handler
   * sources from it. Null when handlers are read from disk.
   */
  readonly manifest: string | null;
  /** The port every worker binds (SO_REUSEPORT); the first worker's when the config says 0. */
  readonly port: number;
  /** The worker's share of the memory budget (1 / workers). */
  readonly memoryShare: number;
  /** The process-wide rate and concurrency limits (rate_limit/shared_limits.ts). */
  readonly limits: Readonly<Record<string, SharedArrayBuffer>>;
}

/** Supervisor → worker. */
export type ToWorker =
  | WorkerStart
  /** Health changes, so each worker's grpc.health.v1 answers for the whole process. */
  | { readonly kind: "health"; readonly status: ServingStatus }
  /** Asks for the worker's metrics as prom-client JSON. */
  | { readonly kind: "metrics"; readonly id: number }
  /** Drain and close within the grace period; the drain delay has passed. */
  | { readonly kind: "shutdown" };

/** Worker → supervisor. */
export type FromWorker =
  | { readonly kind: "serving"; readonly host: string; readonly port: number }
  /** Start-up failed; the message is one line per problem. */
  | { readonly kind: "failed"; readonly message: string }
  | { readonly kind: "metrics"; readonly id: number; readonly json: unknown[] }
  /** The shutdown sequence finished: no call is in flight, the listener is closed. */
  | { readonly kind: "closed" };
