/**
 * What the descriptor builder needs to know about one .proto file: its
 * objects with their names as written, its imports, and where each object's
 * resolved twin lives in the loaded ProtoSet's root.
 *
 * The ProtoSet's root has camelCase field names and one options object per
 * package, shared by every file of that package, so when the file's text is
 * at hand it is parsed again on its own with `keepCase`; the loaded root
 * then only resolves type references. Without text, the loaded root is
 * walked, keeping the objects whose `filename` is the file's.
 * @module
 */
import protobuf from "protobufjs";
import type { ProtoFile } from "../protos/mod.ts";
import { optionEntries, type OptionEntry } from "./options.ts";

/** An import of a file, as written. */
export interface FileImport {
  readonly name: string;
  readonly kind: "plain" | "public" | "weak";
}

/** One file, ready to turn into a `FileDescriptorProto`. */
export interface FileModel {
  readonly file: ProtoFile;
  /** `2023` for `edition = "2023";`, else undefined. */
  readonly edition?: string;
  readonly imports: readonly FileImport[];
  /** The file's top-level messages, enums, services and extensions, in source order. */
  readonly objects: readonly protobuf.ReflectionObject[];
  /** Options set at file level. */
  readonly fileOptions: readonly OptionEntry[];
  /** Namespace (in the loaded root) where file-level custom options resolve. */
  readonly packageScope: protobuf.Namespace;
  /** A field's or oneof's name as written in the file. */
  originalName(object: protobuf.Field | protobuf.OneOf): string;
  /**
   * True when the method has a `{ ... }` body, even an empty one: protoc then
   * sets `options`, empty or not.
   */
  hasBody(method: protobuf.Method): boolean;
  /** The twin of `object` in the loaded root (resolved types, extension sisters). */
  twin<T extends protobuf.ReflectionObject>(object: T): T;
}

const _PARSE_OPTIONS: protobuf.IParseOptions = { keepCase: true, alternateCommentMode: true };

/**
 * A model from the file's source text, parsed again with field names kept.
 * Throws when the text does not parse (it did once, so this is unexpected).
 *
 * @example
 * ```ts
 * const model = modelFromSource(protos.sources.get("a.proto")!, text, protos.root);
 * ```
 */
export function modelFromSource(file: ProtoFile, text: string, loaded: protobuf.Root): FileModel {
  const parsed = protobuf.parse(text, new protobuf.Root(), _PARSE_OPTIONS);
  const root = parsed.root;
  const pkg = file.package ? root.lookup(file.package) as protobuf.Namespace | null : null;
  const stripped = _stripComments(text);
  const edition = /^\s*edition\s*=\s*["']([^"']+)["']/m.exec(stripped)?.[1];
  const bodies = _methodsWithBody(stripped);
  return {
    file,
    edition,
    imports: _importsOf(stripped),
    objects: _topLevel(root, () => true),
    fileOptions: [...optionEntries(root), ...(pkg && pkg !== root ? optionEntries(pkg) : [])],
    packageScope: _loadedScope(loaded, file.package),
    originalName: (object) => object.name,
    hasBody: (method) => bodies.has(`${method.parent?.name}.${method.name}`),
    twin: (object) => _findTwin(object, loaded),
  };
}

/**
 * A model from the loaded root alone: objects whose `filename` is the
 * file's. Field names are guessed back from camelCase (`namesById` →
 * `names_by_id`), which matches the proto style guide. File options are
 * left out when `sharedPackage` (another loaded file has the same package),
 * as the loaded root merges them per package. Public imports read as plain.
 *
 * @example
 * ```ts
 * const model = modelFromRoot(protos.sources.get("a.proto")!, protos.root, false);
 * ```
 */
export function modelFromRoot(
  file: ProtoFile,
  loaded: protobuf.Root,
  sharedPackage: boolean,
): FileModel {
  const scope = _loadedScope(loaded, file.package);
  return {
    file,
    imports: file.imports.map((name) => ({ name, kind: "plain" as const })),
    objects: _topLevel(loaded, (o) => o.filename === file.name),
    // One options object per package: only trust it when no other file shares it.
    fileOptions: scope === loaded || sharedPackage ? [] : optionEntries(scope),
    packageScope: scope,
    originalName: (object) => _snakeCase(object.name),
    hasBody: () => false,
    twin: (object) => object,
  };
}

/** Messages, enums, services and extension fields directly in a package. */
function _topLevel(
  root: protobuf.Root,
  keep: (object: protobuf.ReflectionObject) => boolean,
): protobuf.ReflectionObject[] {
  const out: protobuf.ReflectionObject[] = [];
  const visit = (ns: protobuf.Namespace) => {
    for (const object of ns.nestedArray) {
      const plain = !(object instanceof protobuf.Type) && !(object instanceof protobuf.Enum) &&
        !(object instanceof protobuf.Service) && object instanceof protobuf.Namespace;
      if (plain) visit(object);
      else if (keep(object)) out.push(object);
    }
  };
  visit(root);
  return out;
}

function _loadedScope(loaded: protobuf.Root, pkg: string): protobuf.Namespace {
  if (!pkg) return loaded;
  const found = loaded.lookup(pkg);
  return found instanceof protobuf.Namespace ? found : loaded;
}

/** The object with the same full name (or, for extension fields, the same scope, extendee and number). */
function _findTwin<T extends protobuf.ReflectionObject>(object: T, loaded: protobuf.Root): T {
  if (object instanceof protobuf.Field) {
    const parent = object.parent;
    const scope = parent && parent !== parent.root ? loaded.lookup(parent.fullName) : loaded;
    if (object.extend === undefined && scope instanceof protobuf.Type) {
      const twin = scope.fieldsById[object.id];
      if (twin && !twin.declaringField) return twin as unknown as T;
    } else if (scope instanceof protobuf.Namespace) {
      const twin = scope.nestedArray.find((o) =>
        o instanceof protobuf.Field && o.id === object.id && o.extend === object.extend
      );
      if (twin) return twin as T;
    }
  } else if (object instanceof protobuf.Method) {
    const service = object.parent && loaded.lookup(object.parent.fullName);
    const twin = service instanceof protobuf.Service ? service.methods[object.name] : undefined;
    if (twin) return twin as unknown as T;
  } else {
    const twin = loaded.lookup(object.fullName);
    if (twin) return twin as T;
  }
  throw new Error(`Cannot find ${object.fullName} in the loaded protos`);
}

/** Imports in source order, from the text (the parser merges public into plain). */
function _importsOf(text: string): FileImport[] {
  const out: FileImport[] = [];
  const re = /(?:^|;|\s)import\s+(?:(public|weak)\s+)?(["'])([^"']+)\2\s*;/g;
  for (const m of text.matchAll(re)) {
    out.push({ name: m[3], kind: (m[1] as "public" | "weak" | undefined) ?? "plain" });
  }
  return out;
}

/** `Service.Method` of every rpc written with a `{ ... }` body. */
function _methodsWithBody(stripped: string): Set<string> {
  const text = stripped.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
  const out = new Set<string>();
  for (const service of text.matchAll(/\bservice\s+(\w+)\s*\{/g)) {
    let depth = 1;
    let end = service.index! + service[0].length;
    while (depth > 0 && end < text.length) {
      const c = text[end++];
      if (c === "{") depth++;
      else if (c === "}") depth--;
    }
    const body = text.slice(service.index! + service[0].length, end);
    const rpc = /\brpc\s+(\w+)\s*\([^)]*\)\s*returns\s*\([^)]*\)\s*([{;])/g;
    for (const m of body.matchAll(rpc)) if (m[2] === "{") out.add(`${service[1]}.${m[1]}`);
  }
  return out;
}

function _stripComments(text: string): string {
  // Strings first, so "//" inside a quoted value does not start a comment.
  return text.replace(
    /("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
    (_m, s) => s ?? " ",
  );
}

function _snakeCase(name: string): string {
  return name.charAt(0) +
    name.slice(1).replace(/([A-Z])(?=[a-z0-9]|$)/g, (c) => `_${c.toLowerCase()}`);
}
