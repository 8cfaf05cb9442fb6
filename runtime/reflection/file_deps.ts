/**
 * The descriptor index's shape, and the lookup reflection's service makes in
 * it per request: apart from descriptors.ts, which builds the index, so the
 * service (bound at start) does not load the builders, the well-known
 * descriptors and protobufjs's descriptor.json until the first reflection
 * stream builds the index (app/builtins.ts).
 * @module
 */

/** Everything reflection knows about the loaded protos. */
export interface DescriptorIndex {
  /** Serialized `FileDescriptorProto` by file name (the name imports use), in load order. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Each file's direct imports, in source order. */
  readonly dependencies: ReadonlyMap<string, readonly string[]>;
  /**
   * The file declaring each fully-qualified symbol (no leading dot):
   * messages (nested and map entries too), enums, enum values, fields,
   * oneofs, services, methods (`pkg.Service.Method`) and extensions.
   */
  readonly symbols: ReadonlyMap<string, string>;
  /** Fully-qualified names of every message type. */
  readonly messages: ReadonlySet<string>;
  /** By extended message (fully-qualified): field number → file declaring the extension. */
  readonly extensions: ReadonlyMap<string, ReadonlyMap<number, string>>;
  /**
   * Files that could not be described, as `name: reason`; reflection answers
   * NOT_FOUND for them. Empty unless the builder meets a proto it cannot
   * handle; worth a warning in the log.
   */
  readonly problems: readonly string[];
}

/**
 * The file `name` followed by its transitive dependencies, breadth first,
 * leaving out dependencies already in `sent` (the file itself is always
 * included), as grpc-go's reflection does. Adds what it returns to `sent`.
 * Returns null when the index has no file `name`.
 *
 * @example
 * ```ts
 * const sent = new Set<string>();
 * fileWithDependencies(index, "grpc/testing/test.proto", sent); // 3 files
 * fileWithDependencies(index, "grpc/testing/test.proto", sent); // 1 file
 * ```
 */
export function fileWithDependencies(
  index: DescriptorIndex,
  name: string,
  sent: Set<string>,
): Uint8Array[] | null {
  const first = index.files.get(name);
  if (!first) return null;
  const out = [first];
  sent.add(name);
  const queue = [...(index.dependencies.get(name) ?? [])];
  const seen = new Set([name]);
  while (queue.length) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const bytes = index.files.get(next);
    if (bytes && !sent.has(next)) {
      out.push(bytes);
      sent.add(next);
    }
    queue.push(...(index.dependencies.get(next) ?? []));
  }
  return out;
}
