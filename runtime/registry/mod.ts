/**
 * This instance's registration in etcd: {@link createRegistrar} keeps it
 * registered in grpc-go's etcd naming layout. Calling other services lives
 * in runtime/client/.
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
