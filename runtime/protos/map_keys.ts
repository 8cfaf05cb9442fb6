/**
 * Works around two protobufjs 7 map-key bugs, only for message types that
 * (at any depth) hold an affected map:
 * - maps with 64-bit integer keys decode with 8-character binary "hash"
 *   keys; they are turned back into decimal strings;
 * - maps with bool keys encode every key as `true` (the key is the string
 *   `"false"`, which is truthy); `"false"` keys are renamed to `""` before
 *   encoding, which the encoder writes as `false`.
 * @module
 */
import protobuf from "protobufjs";

/** Rewrites an object in place. */
export type Fixup = (object: Record<string, unknown>) => void;

const LONG_KEYS = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);

/**
 * The fixup to run on `toObject()` output of `type`, or null when no map
 * with 64-bit keys is reachable from it.
 *
 * @example
 * ```ts
 * const fix = decodeFixup(type);
 * const object = type.toObject(type.decode(bytes), options);
 * fix?.(object);
 * ```
 */
export function decodeFixup(type: protobuf.Type): Fixup | null {
  return _compile(type, (f) => LONG_KEYS.has(f.keyType), (field) => {
    const unsigned = field.keyType === "uint64" || field.keyType === "fixed64";
    return (map) => {
      const out: Record<string, unknown> = {};
      for (const hash in map) {
        const key = protobuf.util.longFromHash(hash, unsigned);
        out[String(key)] = map[hash];
      }
      return out;
    };
  });
}

/**
 * The fixup to run on `fromObject()` output of `type` before `encode()`, or
 * null when no map with bool keys is reachable from it.
 */
export function encodeFixup(type: protobuf.Type): Fixup | null {
  return _compile(type, (f) => f.keyType === "bool", () => (map) => {
    if (!Object.hasOwn(map, "false")) return map;
    const out: Record<string, unknown> = {};
    for (const key in map) out[key === "false" ? "" : key] = map[key];
    return out;
  });
}

type _MapRewrite = (map: Record<string, unknown>) => Record<string, unknown>;

function _compile(
  root: protobuf.Type,
  affected: (field: protobuf.MapField) => boolean,
  rewriteFor: (field: protobuf.MapField) => _MapRewrite,
): Fixup | null {
  const needy = _typesNeedingFixup(root, affected);
  if (!needy.has(root)) return null;
  const fixups = new Map<protobuf.Type, Fixup>();
  const fixupFor = (type: protobuf.Type): Fixup => {
    let fixup = fixups.get(type);
    if (fixup) return fixup;
    const steps: Fixup[] = [];
    fixup = (object) => {
      for (const step of steps) step(object);
    };
    fixups.set(type, fixup);
    for (const field of type.fieldsArray) {
      const step = _fieldStep(field, needy, affected, rewriteFor, fixupFor);
      if (step) steps.push(step);
    }
    return fixup;
  };
  return fixupFor(root);
}

function _fieldStep(
  field: protobuf.Field,
  needy: Set<protobuf.Type>,
  affected: (field: protobuf.MapField) => boolean,
  rewriteFor: (field: protobuf.MapField) => _MapRewrite,
  fixupFor: (type: protobuf.Type) => Fixup,
): Fixup | null {
  const name = field.name;
  const target = field.resolvedType;
  const nested = target instanceof protobuf.Type && needy.has(target) ? target : null;
  const rewrite = field instanceof protobuf.MapField && affected(field) ? rewriteFor(field) : null;
  if (!nested && !rewrite) return null;
  return (object) => {
    const value = object[name];
    if (value === null || value === undefined) return;
    if (nested) {
      const fix = fixupFor(nested);
      if (field.map || !field.repeated) {
        if (field.map) {
          for (const k in value as object) fix((value as Record<string, never>)[k]);
        } else fix(value as Record<string, unknown>);
      } else {
        for (const item of value as Record<string, unknown>[]) fix(item);
      }
    }
    if (rewrite) object[name] = rewrite(value as Record<string, unknown>);
  };
}

/** Every type reachable from `root` that reaches an affected map. */
function _typesNeedingFixup(
  root: protobuf.Type,
  affected: (field: protobuf.MapField) => boolean,
): Set<protobuf.Type> {
  const edges = new Map<protobuf.Type, protobuf.Type[]>();
  const direct = new Set<protobuf.Type>();
  const stack = [root];
  while (stack.length) {
    const type = stack.pop()!;
    if (edges.has(type)) continue;
    const out: protobuf.Type[] = [];
    edges.set(type, out);
    for (const field of type.fieldsArray) {
      if (field instanceof protobuf.MapField && affected(field)) direct.add(type);
      const target = field.resolve().resolvedType;
      if (target instanceof protobuf.Type) {
        out.push(target);
        stack.push(target);
      }
    }
  }
  const needy = new Set(direct);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [type, out] of edges) {
      if (!needy.has(type) && out.some((t) => needy.has(t))) {
        needy.add(type);
        grew = true;
      }
    }
  }
  return needy;
}
