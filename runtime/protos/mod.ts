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
// The JSON mapping (json_codec.ts: binaryToJson, jsonToBinary) is imported
// from its own file: re-exported here, every start would load it, while
// describe_services.ts loads it on a method's first JSON call.
