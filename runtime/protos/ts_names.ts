/**
 * TypeScript names for generated declarations: a message or enum is named
 * after itself with nesting joined by `_` (`Outer_Inner`), a service as
 * `<Service>Handlers`. Names that clash across packages, or with names the
 * generated module uses itself, get the package in PascalCase as a prefix
 * (`GrpcTestingEmpty`).
 * @module
 */
import protobuf from "protobufjs";

/** Names chosen for one generation run. */
export interface TsNames {
  /** The decoded shape of a message, or the name union of an enum. */
  type(object: protobuf.Type | protobuf.Enum): string;
  /** What a handler may send: `<type>Init`. */
  init(object: protobuf.Type | protobuf.Enum): string;
  /** The handlers interface of a service. */
  service(service: protobuf.Service): string;
}

/** Identifiers the generated module declares or uses itself. */
const RESERVED = new Set([
  "CallContext",
  "ServiceName",
  "ServiceHandlers",
  "Promise",
  "AsyncIterable",
  "Iterable",
  "Uint8Array",
  "Record",
  "any",
  "bigint",
  "boolean",
  "never",
  "null",
  "number",
  "object",
  "string",
  "symbol",
  "undefined",
  "unknown",
  "void",
]);

type _Named = protobuf.Type | protobuf.Enum | protobuf.Service;

/**
 * Picks a unique name for every type and service, deterministically.
 *
 * @example
 * ```ts
 * const names = assignTsNames([helloRequest], [greeter]);
 * names.type(helloRequest); // "HelloRequest"
 * names.service(greeter); // "GreeterHandlers"
 * ```
 */
export function assignTsNames(
  types: readonly (protobuf.Type | protobuf.Enum)[],
  services: readonly protobuf.Service[],
): TsNames {
  const all: _Named[] = [...types, ...services];
  const base = new Map<_Named, string>();
  for (const object of all) base.set(object, _localName(object));

  const counts = new Map<string, number>();
  for (const object of all) {
    for (const id of _identifiers(object, base.get(object)!)) {
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  const clashes = (object: _Named, name: string) =>
    _identifiers(object, name).some((id) => RESERVED.has(id) || (counts.get(id) ?? 0) > 1);

  const chosen = new Map<_Named, string>();
  const used = new Set<string>();
  for (const object of all) {
    let name = base.get(object)!;
    if (clashes(object, name)) {
      const pkg = _packagePascal(object);
      name = pkg ? `${pkg}${name}` : `${name}_`;
    }
    let unique = name;
    for (
      let n = 2;
      _identifiers(object, unique).some((id) => used.has(id) || RESERVED.has(id));
      n++
    ) {
      unique = `${name}_${n}`;
    }
    for (const id of _identifiers(object, unique)) used.add(id);
    chosen.set(object, unique);
  }
  const nameOf = (object: _Named) => {
    const name = chosen.get(object);
    if (name === undefined) throw new Error(`no TypeScript name for ${object.fullName}`);
    return name;
  };
  return {
    type: (object) => nameOf(object),
    init: (object) => `${nameOf(object)}Init`,
    service: (service) => `${nameOf(service)}Handlers`,
  };
}

function _identifiers(object: _Named, name: string): string[] {
  return object instanceof protobuf.Service ? [`${name}Handlers`] : [name, `${name}Init`];
}

/** Name inside the package, nested parts joined by `_`. */
function _localName(object: _Named): string {
  const parts = [object.name];
  for (let p = object.parent; p && _isMessage(p); p = p.parent) parts.unshift(p.name);
  return _identifierSafe(parts.join("_"));
}

function _packagePascal(object: _Named): string {
  const parts: string[] = [];
  let p = object.parent;
  while (p && _isMessage(p)) p = p.parent;
  for (; p && p.parent; p = p.parent) parts.unshift(p.name);
  return parts
    .flatMap((part) => part.split("_"))
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join("");
}

function _isMessage(object: protobuf.ReflectionObject): boolean {
  return object instanceof protobuf.Type;
}

function _identifierSafe(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : name.replace(/[^\w$]/g, "_");
}
