/**
 * `ctx.clients` for a service with no dependencies. Kept apart from
 * discovery.ts so such services never load grpc-js (tens of ms at start).
 * @module
 */
import { type Clients, undeclaredDependency } from "./clients.ts";

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
    setInterceptors: () => {},
    readings: { dependencies: [] },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return clients;
}
