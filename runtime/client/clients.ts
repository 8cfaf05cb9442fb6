/**
 * The process-wide set of dependency clients, as the composition root holds
 * it: `createClients()` (discovery.ts) makes the real one, `noClients()`
 * the one for a service that calls nothing (without loading grpc-js).
 * @module
 */
import type { CallClients, CallParent, ClientsForCalls } from "../core/clients.ts";

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
}

/** The error for a service that is not a declared dependency. */
export function undeclaredDependency(service: string, declared: readonly string[]): Error {
  return new Error(
    `Cannot call "${service}": it is not a declared dependency (declared: ${
      declared.join(", ") || "none"
    }); add it under "dependencies" in the config`,
  );
}
