/**
 * The process-wide set of dependency clients, as the composition root holds
 * it: `createClients()` (discovery.ts) makes the real one, `noClients()`
 * the one for a service that calls nothing (without loading grpc-js).
 * @module
 */
import type {
  CallClients,
  CallParent,
  ClientInterceptor,
  ClientsForCalls,
} from "../core/clients.ts";

/** All dependency clients of a process; see {@link createClients}. */
export interface Clients extends CallClients, ClientsForCalls, AsyncDisposable {
  /** Declared dependency names. */
  readonly services: readonly string[];
  /** A view whose calls inherit `parent`'s deadline and cancellation (a handler's `ctx`). */
  forCall(parent: CallParent): CallClients;
  /** Current instances of a dependency, sorted (for logs and tests). */
  instances(service: string): string[];
  /** Stops resolving and closes every channel and the etcd client. Bounded; never rejects. */
  close(): Promise<void>;
  /** Replaces the client middleware (live reload); calls already started keep theirs. */
  setInterceptors(interceptors: readonly ClientInterceptor[]): void;
  /** What each dependency's policies count, for metrics (read at scrape time). */
  readonly readings: ClientsReadings;
}

/** Per-dependency counters and gauges (the metrics built-in reads them structurally). */
export interface ClientsReadings {
  readonly dependencies: readonly DependencyReadings[];
}

/** One dependency's breaker, retry and ejection figures. */
export interface DependencyReadings {
  readonly service: string;
  /** Probability that the breaker rejects a call now, 0..1. */
  readonly breakerDropRatio: number;
  /** Calls the breaker rejected locally. */
  readonly breakerRejections: number;
  /** Attempts after the first. */
  readonly retries: number;
  /** Retries refused by retry throttling. */
  readonly retriesThrottled: number;
  readonly retryTokens: number;
  readonly instances: number;
  readonly ejectedInstances: number;
  readonly ejections: number;
}

/** The error for a service that is not a declared dependency. */
export function undeclaredDependency(service: string, declared: readonly string[]): Error {
  return new Error(
    `Cannot call "${service}": it is not a declared dependency (declared: ${
      declared.join(", ") || "none"
    }); add it under "dependencies" in the config`,
  );
}
