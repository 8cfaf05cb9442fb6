/**
 * The well-known types (`google/protobuf/*.proto`) that protos may import
 * without having them on disk: protobufjs's bundled `common` definitions plus
 * `descriptor.proto` (for custom options).
 * @module
 */
import protobuf from "protobufjs";

const COMMON_FILES = [
  "google/protobuf/any.proto",
  "google/protobuf/duration.proto",
  "google/protobuf/empty.proto",
  "google/protobuf/field_mask.proto",
  "google/protobuf/struct.proto",
  "google/protobuf/timestamp.proto",
  "google/protobuf/wrappers.proto",
];
const DESCRIPTOR_FILE = "google/protobuf/descriptor.proto";

/** Import names the runtime answers itself, before looking on disk. */
export const BUILTIN_FILES: ReadonlySet<string> = new Set([...COMMON_FILES, DESCRIPTOR_FILE]);

/** True when `name` (an import name) is one of {@link BUILTIN_FILES}. */
export function isBuiltinFile(name: string): boolean {
  return BUILTIN_FILES.has(name);
}

/**
 * Adds the built-in file `name` to `root` and marks every object it defines
 * with `filename = name`. Resolves false when `name` is not built in.
 *
 * @example
 * ```ts
 * const root = new protobuf.Root();
 * await addBuiltinFile(root, "google/protobuf/timestamp.proto");
 * root.lookupType("google.protobuf.Timestamp");
 * ```
 */
export async function addBuiltinFile(root: protobuf.Root, name: string): Promise<boolean> {
  const nested = await _builtinJson(name);
  if (!nested) return false;
  root.addJSON(nested);
  _markFilename(root, nested, "", name);
  return true;
}

async function _builtinJson(
  name: string,
): Promise<Record<string, protobuf.AnyNestedObject> | null> {
  if (name === DESCRIPTOR_FILE) {
    // The same definition protobufjs/ext/descriptor loads; imported only for
    // protos that import descriptor.proto (40 KB every start would parse).
    const json = await import("protobufjs/google/protobuf/descriptor.json", {
      with: { type: "json" },
    });
    return (json.default as unknown as protobuf.INamespace).nested ?? null;
  }
  if (!COMMON_FILES.includes(name)) return null;
  return protobuf.common.get(name)?.nested ?? null;
}

function _markFilename(
  root: protobuf.Root,
  nested: Record<string, protobuf.AnyNestedObject>,
  prefix: string,
  filename: string,
): void {
  for (const [key, json] of Object.entries(nested)) {
    const fullName = prefix ? `${prefix}.${key}` : key;
    const isPlainNamespace = !("fields" in json) && !("values" in json) && !("methods" in json);
    if (isPlainNamespace && "nested" in json && json.nested) {
      _markFilename(root, json.nested, fullName, filename);
      continue;
    }
    const object = root.lookup(fullName);
    if (object) _markAll(object, filename);
  }
}

function _markAll(object: protobuf.ReflectionObject, filename: string): void {
  object.filename = filename;
  if (object instanceof protobuf.Type) {
    for (const field of object.fieldsArray) field.filename = filename;
  }
  if (object instanceof protobuf.Namespace) {
    for (const child of object.nestedArray) _markAll(child, filename);
  }
}
