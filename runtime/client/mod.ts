/**
 * Calling other services (`ctx.clients`): {@link createClients} resolves each
 * dependency from etcd or a static list and balances calls across its
 * instances. Importing this module loads grpc-js; the composition root
 * imports discovery.ts lazily, only when the config declares dependencies.
 *
 * @example
 * ```ts
 * import { createClients } from "./mod.ts";
 * const clients = createClients({ registry: config.registry, dependencies, log });
 * const reply = await clients.forCall(ctx).get("demo.Backend").echo({ text: "hi" });
 * await clients.close();
 * ```
 * @module
 */
export { type Clients, undeclaredDependency } from "./clients.ts";
export {
  type ClientsOptions,
  createClients,
  type DependencyOptions,
  type DependencyTls,
} from "./discovery.ts";
export { noClients } from "./no_clients.ts";
export type { Balancing } from "./balancer.ts";
