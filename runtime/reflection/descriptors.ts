/**
 * The descriptor index reflection answers from: every loaded .proto file
 * as a serialized `FileDescriptorProto`, and the file that declares each
 * symbol and extension. Built once at start-up; lookups are map reads.
 * @module
 */
import type { ProtoFile, ProtoSet } from "../protos/mod.ts";
import { buildFile } from "./build_file.ts";
import { decodeFileDescriptor, encodeFileDescriptor } from "./descriptor_types.ts";
import { modelFromRoot, modelFromSource } from "./file_model.ts";
import { REFLECTION_PROTOS } from "./reflection_protos.ts";
import { wellKnownDescriptor } from "./wkt_descriptors.ts";
import type { DescriptorIndex } from "./file_deps.ts";

// In file_deps.ts, which reflection's service imports without this file
// (the descriptor builders load on the first reflection stream).
export { type DescriptorIndex, fileWithDependencies } from "./file_deps.ts";

/** Options for {@link createDescriptorIndex}. */
export interface DescriptorIndexOptions {
  /**
   * Sources of protos compiled into the runtime (`loadProtos({ embedded })`),
   * so their field names come out as written. The reflection protos are
   * always known; others without a source get names guessed from camelCase.
   */
  embedded?: readonly { readonly name: string; readonly source: string }[];
}

/**
 * Builds the index from one or more loaded proto sets (for example the
 * built-in protos and the user's). A file name seen in an earlier set wins.
 * Built-in well-known types get protoc's canonical descriptors; other
 * files are parsed again from disk (or `embedded`) to keep field names as
 * written, or rebuilt from the loaded root when no text is at hand.
 *
 * @example
 * ```ts
 * const index = await createDescriptorIndex([builtins, protos], { embedded: [HEALTH_PROTO] });
 * index.files.get(index.symbols.get("helloworld.Greeter")!);
 * ```
 */
export async function createDescriptorIndex(
  sets: readonly ProtoSet[],
  options: DescriptorIndexOptions = {},
): Promise<DescriptorIndex> {
  const embedded = new Map<string, string>();
  for (const e of [...REFLECTION_PROTOS, ...(options.embedded ?? [])]) {
    embedded.set(e.name, e.source);
  }
  const files = new Map<string, Uint8Array>();
  const dependencies = new Map<string, readonly string[]>();
  const symbols = new Map<string, string>();
  const messages = new Set<string>();
  const extensions = new Map<string, Map<number, string>>();

  const problems: string[] = [];
  for (const set of sets) {
    for (const file of set.sources.values()) {
      if (files.has(file.name)) continue;
      let bytes: Uint8Array;
      try {
        bytes = (file.path === null ? wellKnownDescriptor(file.name) : undefined) ??
          await _describe(file, set, embedded);
      } catch (error) {
        problems.push(`${file.name}: ${(error as Error).message}`);
        continue;
      }
      const decoded = decodeFileDescriptor(bytes);
      files.set(file.name, bytes);
      dependencies.set(file.name, decoded.dependency);
      _indexSymbols(decoded, file.name, { symbols, messages, extensions });
    }
  }
  return { files, dependencies, symbols, messages, extensions, problems };
}

/** The file rebuilt from its text when at hand, else (or if that fails) from the loaded root. */
async function _describe(
  file: ProtoFile,
  set: ProtoSet,
  embedded: ReadonlyMap<string, string>,
): Promise<Uint8Array> {
  let text = embedded.get(file.name);
  if (text === undefined && file.path !== null && file.path.startsWith("/")) {
    text = await Deno.readTextFile(file.path).catch(() => undefined);
  }
  if (text !== undefined) {
    try {
      return encodeFileDescriptor(buildFile(modelFromSource(file, text, set.root)));
    } catch {
      // Changed on disk since it was loaded, say; the loaded root still knows it.
    }
  }
  const shared = [...set.sources.values()].some((f) => f !== file && f.package === file.package);
  return encodeFileDescriptor(buildFile(modelFromRoot(file, set.root, shared)));
}

interface _Scope {
  name: string;
  field?: readonly { name: string }[];
  extension?: readonly { name: string; number: number; extendee?: string }[];
  nestedType?: readonly _Scope[];
  enumType?: readonly { name: string; value?: readonly { name: string }[] }[];
  oneofDecl?: readonly { name: string }[];
}

interface _Tables {
  symbols: Map<string, string>;
  messages: Set<string>;
  extensions: Map<string, Map<number, string>>;
}

function _indexSymbols(
  file: ReturnType<typeof decodeFileDescriptor>,
  fileName: string,
  tables: _Tables,
): void {
  const prefix = file.package ? `${file.package}.` : "";
  const add = (symbol: string) => {
    if (!tables.symbols.has(symbol)) tables.symbols.set(symbol, fileName);
  };
  const addExtensions = (scope: string, list: _Scope["extension"]) => {
    for (const ext of list ?? []) {
      add(`${scope}${ext.name}`);
      const extendee = (ext.extendee ?? "").replace(/^\./, "");
      if (!tables.extensions.has(extendee)) tables.extensions.set(extendee, new Map());
      tables.extensions.get(extendee)!.set(ext.number, fileName);
    }
  };
  const addEnums = (scope: string, list: _Scope["enumType"]) => {
    for (const e of list ?? []) {
      add(`${scope}${e.name}`);
      // Enum values are siblings of their enum, as in C++ scoping.
      for (const v of e.value ?? []) add(`${scope}${v.name}`);
    }
  };
  const addMessage = (scope: string, message: _Scope) => {
    const full = `${scope}${message.name}`;
    add(full);
    tables.messages.add(full);
    for (const f of message.field ?? []) add(`${full}.${f.name}`);
    for (const o of message.oneofDecl ?? []) add(`${full}.${o.name}`);
    addEnums(`${full}.`, message.enumType);
    addExtensions(`${full}.`, message.extension);
    for (const nested of message.nestedType ?? []) addMessage(`${full}.`, nested);
  };
  for (const message of file.messageType) addMessage(prefix, message);
  addEnums(prefix, file.enumType);
  addExtensions(prefix, file.extension);
  for (const service of file.service) {
    add(`${prefix}${service.name}`);
    for (const method of service.method) add(`${prefix}${service.name}.${method.name}`);
  }
}
