/**
 * `google.protobuf.FileDescriptorProto` as plain objects, and its encoding.
 * Field names are protobufjs's camelCase ones (`messageType`, `typeName`,
 * `jsonName`); enums are numbers. `options` fields hold already-encoded
 * option messages, so custom options (extensions) survive encoding.
 * @module
 */
import protobuf from "protobufjs";
import descriptorJson from "protobufjs/google/protobuf/descriptor.json" with { type: "json" };

/** `FieldDescriptorProto.Type`. */
export const FieldType = {
  DOUBLE: 1,
  FLOAT: 2,
  INT64: 3,
  UINT64: 4,
  INT32: 5,
  FIXED64: 6,
  FIXED32: 7,
  BOOL: 8,
  STRING: 9,
  GROUP: 10,
  MESSAGE: 11,
  BYTES: 12,
  UINT32: 13,
  ENUM: 14,
  SFIXED32: 15,
  SFIXED64: 16,
  SINT32: 17,
  SINT64: 18,
} as const;

/** `FieldDescriptorProto.Label`. */
export const FieldLabel = { OPTIONAL: 1, REQUIRED: 2, REPEATED: 3 } as const;

/** Encoded option messages (`FileOptions`, `FieldOptions`, ...). */
export type EncodedOptions = Uint8Array;

/** `FieldDescriptorProto`. */
export interface FieldProto {
  name: string;
  number: number;
  label: number;
  type: number;
  typeName?: string;
  extendee?: string;
  defaultValue?: string;
  oneofIndex?: number;
  jsonName: string;
  options?: EncodedOptions;
  proto3Optional?: boolean;
}

/** `EnumDescriptorProto`. */
export interface EnumProto {
  name: string;
  value: { name: string; number: number; options?: EncodedOptions }[];
  options?: EncodedOptions;
  reservedRange: { start: number; end: number }[];
  reservedName: string[];
}

/** `DescriptorProto`. */
export interface MessageProto {
  name: string;
  field: FieldProto[];
  extension: FieldProto[];
  nestedType: MessageProto[];
  enumType: EnumProto[];
  extensionRange: { start: number; end: number }[];
  oneofDecl: { name: string; options?: EncodedOptions }[];
  options?: EncodedOptions;
  reservedRange: { start: number; end: number }[];
  reservedName: string[];
}

/** `MethodDescriptorProto`. */
export interface MethodProto {
  name: string;
  inputType: string;
  outputType: string;
  options?: EncodedOptions;
  clientStreaming?: boolean;
  serverStreaming?: boolean;
}

/** `ServiceDescriptorProto`. */
export interface ServiceProto {
  name: string;
  method: MethodProto[];
  options?: EncodedOptions;
}

/** `FileDescriptorProto`, without source info. */
export interface FileProto {
  name: string;
  package?: string;
  dependency: string[];
  publicDependency: number[];
  weakDependency: number[];
  messageType: MessageProto[];
  enumType: EnumProto[];
  service: ServiceProto[];
  extension: FieldProto[];
  options?: EncodedOptions;
  syntax?: string;
  edition?: number;
}

/** The option message types, by the name descriptor.proto gives them. */
export type OptionsKind =
  | "FileOptions"
  | "MessageOptions"
  | "FieldOptions"
  | "OneofOptions"
  | "EnumOptions"
  | "EnumValueOptions"
  | "ServiceOptions"
  | "MethodOptions";

// descriptor.proto as protobufjs ships it, and a copy whose `options` fields
// are plain bytes so pre-encoded options (with extensions) pass through.
// Built on first use: ~25 ms of every cold start otherwise, and a server
// needs them only once a reflection client asks.
let _standardRoot: protobuf.Root | null = null;
let _fileEncoderType: protobuf.Type | null = null;

function _standard(): protobuf.Root {
  return _standardRoot ??= protobuf.Root.fromJSON(descriptorJson as protobuf.INamespace);
}

function _fileEncoder(): protobuf.Type {
  return _fileEncoderType ??= protobuf.Root
    .fromJSON(_optionsAsBytes(descriptorJson as protobuf.INamespace))
    .lookupType("google.protobuf.FileDescriptorProto");
}

/**
 * Serializes a file descriptor built by the runtime.
 *
 * @example
 * ```ts
 * const bytes = encodeFileDescriptor({ name: "a.proto", dependency: [], ... });
 * ```
 */
export function encodeFileDescriptor(file: FileProto): Uint8Array {
  return _fileEncoder().encode(file as unknown as protobuf.Message).finish();
}

/**
 * Parses a serialized `FileDescriptorProto` into a plain object with
 * protobufjs's camelCase names, enums as numbers, options decoded as
 * messages (extensions dropped) and repeated fields always present.
 *
 * @example
 * ```ts
 * const file = decodeFileDescriptor(bytes);
 * file.messageType.map((m) => m.name);
 * ```
 */
export function decodeFileDescriptor(bytes: Uint8Array): DecodedFile {
  const decoder = _standard().lookupType("google.protobuf.FileDescriptorProto");
  return decoder.toObject(decoder.decode(bytes), { arrays: true, longs: Number }) as DecodedFile;
}

/** What {@link decodeFileDescriptor} returns: {@link FileProto} with decoded options. */
export type DecodedFile = Record<string, unknown> & {
  name: string;
  package?: string;
  dependency: string[];
  messageType: DecodedMessage[];
  enumType: { name: string; value: { name: string }[] }[];
  service: { name: string; method: { name: string }[] }[];
  extension: { name: string; number: number; extendee?: string }[];
};

/** A message of a {@link DecodedFile}. */
export type DecodedMessage = Record<string, unknown> & {
  name: string;
  field: { name: string }[];
  extension: { name: string; number: number; extendee?: string }[];
  nestedType: DecodedMessage[];
  enumType: { name: string; value: { name: string }[] }[];
  oneofDecl: { name: string }[];
};

/** The protobufjs type of an option message, from descriptor.proto. */
export function optionsType(kind: OptionsKind): protobuf.Type {
  return _standard().lookupType(`google.protobuf.${kind}`);
}

function _optionsAsBytes(json: protobuf.INamespace): protobuf.INamespace {
  const copy = structuredClone(json) as protobuf.INamespace;
  const visit = (nested: Record<string, protobuf.AnyNestedObject> | undefined) => {
    for (const value of Object.values(nested ?? {})) {
      const type = value as protobuf.IType & protobuf.INamespace;
      const options = type.fields?.["options"];
      if (options && /Options$/.test(options.type)) options.type = "bytes";
      visit(type.nested);
    }
  };
  visit(copy.nested);
  return copy;
}
