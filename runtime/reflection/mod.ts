/**
 * gRPC server reflection (`grpc.reflection.v1` and `v1alpha`), so grpcurl,
 * Postman and Python's reflection client list and call services without
 * the .proto files.
 *
 * @example
 * ```ts
 * import { createDescriptorIndex, createReflectionServices, REFLECTION_PROTOS } from "./mod.ts";
 * const builtins = await loadProtos({ files: [], includePaths: [], embedded: REFLECTION_PROTOS });
 * const index = await createDescriptorIndex([builtins, protos]);
 * const services = createReflectionServices(index, () => servedServiceNames);
 * ```
 * @module
 */
export {
  REFLECTION_PROTOS,
  REFLECTION_V1_PROTO,
  REFLECTION_V1ALPHA_PROTO,
} from "./reflection_protos.ts";
export {
  createDescriptorIndex,
  type DescriptorIndex,
  type DescriptorIndexOptions,
  fileWithDependencies,
} from "./descriptors.ts";
export {
  answerReflection,
  createReflectionServices,
  REFLECTION_V1_SERVICE,
  REFLECTION_V1ALPHA_SERVICE,
  type ReflectionRequest,
  type ReflectionResponse,
} from "./service.ts";
export { type DecodedFile, type DecodedMessage, decodeFileDescriptor } from "./descriptor_types.ts";
