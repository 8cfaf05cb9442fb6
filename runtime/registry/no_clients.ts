/**
 * `ctx.clients` for a service with no dependencies. Kept apart from
 * discovery.ts so such services never load grpc-js (tens of ms at start).
 * @module
 */
import type { Clients } from "./discovery.ts";

/** The error for a service that is not a declared dependency. */
export function undeclaredDependency(service: string, declared: readonly string[]): Error {
  return new Error(
    `Cannot call "${service}": it is not a declared dependency (declared: ${
      declared.join(", ") || "none"
    }); add it under "dependencies" in the config`,
  );
}

/** Clients with nothing declared: every `get` throws the undeclared-dependency error. */
export function noClients(): Clients {
  const get = (service: string): never => {
    throw undeclaredDependency(service, []);
  };
  const clients: Clients = {
    services: [],
    get,
    forCall: () => ({ get }),
    instances: get,
    close: () => Promise.resolve(),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return clients;
}
