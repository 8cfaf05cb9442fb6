/**
 * Service registry and discovery on etcd: {@link createRegistrar} keeps this
 * instance registered (grpc-go's etcd naming layout), and
 * {@link createClients} calls other services, resolved from etcd or a static
 * list, balanced across their instances.
 *
 * @example
 * ```ts
 * import { createRegistrar } from "./mod.ts";
 * const registrar = createRegistrar({
 *   registry: config.registry, services: ["helloworld.Greeter"], address: server.address, log,
 * });
 * registrar.start();
 * ```
 * @module
 */
export {
  createRegistrar,
  type Registrar,
  type RegistrarOptions,
  type RegistrarState,
  type RegistryMetrics,
} from "./registrar.ts";
export { type AdvertiseOptions, joinHostPort, resolveAdvertise } from "./advertise.ts";
export {
  createEtcdClient,
  type EtcdClientOptions,
  etcdEndpointIssues,
  servicePrefix,
} from "./etcd_client.ts";
export { backoffDelay, type BackoffOptions } from "./backoff.ts";
export {
  type CallClients,
  type Clients,
  type ClientsOptions,
  createClients,
  type DependencyOptions,
  type DependencyTls,
} from "./discovery.ts";
export type {
  BidiStreamClientMethod,
  CallParent,
  ClientCallOptions,
  ClientStreamClientMethod,
  ServerStreamClientMethod,
  ServiceClient,
  UnaryClientMethod,
} from "./service_client.ts";
export type { Balancing } from "./balancer.ts";
