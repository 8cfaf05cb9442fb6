/**
 * Loads .proto files into services with per-method codecs, and generates
 * TypeScript types for handler files (`svc types`).
 *
 * @example
 * ```ts
 * import { generateTypes, loadProtos } from "./mod.ts";
 * const protos = await loadProtos({ files: ["proto"], includePaths: [] });
 * await Deno.writeTextFile("handlers/_types.ts", generateTypes(protos));
 * ```
 * @module
 */
export { loadProtos, type LoadProtosOptions } from "./load_protos.ts";
export { generateTypes } from "./generate_types.ts";
export {
  type CallKind,
  MessageShapeError,
  type MethodDescriptor,
  type MethodJsonCodec,
  type ProtoFile,
  type ProtoSet,
  type ServiceDescriptor,
} from "./types.ts";
export {
  binaryToJson,
  type BinaryToJsonOptions,
  JsonMappingError,
  jsonToBinary,
  type JsonToBinaryOptions,
} from "./json_codec.ts";
