/**
 * What one `svc types` module declares: the messages and enums of the served
 * protos and of each dependency's protos, once per full name, the served and
 * the called services, and a TypeScript name for each. Each dependency's
 * protos are a protobufjs root of their own, so names are looked up by full
 * name: a dependency's `EchoRequest` object gets the name of the one declared.
 * @module
 */
import protobuf from "protobufjs";
import { assignTsNames, type TsNames } from "./ts_names.ts";
import type { ProtoSet } from "./types.ts";

type _Declared = protobuf.Type | protobuf.Enum;

/**
 * Names the module declares or imports itself that ts_names.ts does not
 * reserve; a message named so is renamed (`DependencyClients_`).
 */
const _OWN_NAMES: ReadonlySet<string> = new Set(["ClientCallOptions", "DependencyClients"]);

/** Everything one types module declares, named. */
export interface TsDeclarations {
  /** Messages and enums, once per full name: the served protos' first, in declaration order. */
  readonly types: readonly (protobuf.Type | protobuf.Enum)[];
  /** The services of the served protos. */
  readonly services: readonly protobuf.Service[];
  /** The dependencies' services, in the order given. */
  readonly called: readonly protobuf.Service[];
  /** TypeScript names for `types` and the services, from any root. */
  readonly names: TsNames;
  /** The client interface name of each of `called`. */
  readonly clientNames: ReadonlyMap<protobuf.Service, string>;
}

/**
 * Gathers and names what the module for `protos` and `dependencies` (each
 * dependency's protos by its fully-qualified service name) declares. The
 * messages and enums of a set of protos are those its configured files
 * declare, plus every type they or its services use; proto names are one
 * namespace, so a type loaded twice is declared as first seen.
 *
 * @example
 * ```ts
 * const { called, clientNames } = collectDeclarations(protos, new Map([["demo.Backend", backend]]));
 * clientNames.get(called[0]); // "BackendClient"
 * ```
 */
export function collectDeclarations(
  protos: ProtoSet,
  dependencies: ReadonlyMap<string, ProtoSet>,
): TsDeclarations {
  const services = [...protos.services.keys()].map((name) => protos.root.lookupService(name));
  const sources: _Source[] = [{ protos, services }];
  const called: protobuf.Service[] = [];
  for (const [name, set] of dependencies) {
    const service = _dependencyService(name, set);
    sources.push({ protos: set, services: [service] });
    called.push(service);
  }
  const types = _declaredAcross(sources);
  const { names, taken } = _namesAcross(types, [...services, ...called]);
  return { types, services, called, names, clientNames: _clientNames(called, names, taken) };
}

/**
 * Names of the configured files of `protos` (imports not counted), in load order.
 *
 * @example
 * ```ts
 * configuredFiles(protos); // ["helloworld.proto"]
 * ```
 */
export function configuredFiles(protos: ProtoSet): string[] {
  return [...protos.sources.values()]
    .filter((file) => file.path !== null && protos.files.includes(file.path))
    .map((file) => file.name);
}

/** The protos and services one set of declarations is gathered from. */
interface _Source {
  readonly protos: ProtoSet;
  readonly services: readonly protobuf.Service[];
}

function _dependencyService(name: string, protos: ProtoSet): protobuf.Service {
  // `svc types` checks this first (app/dependencies.ts), with a config-file error.
  if (!protos.services.has(name)) {
    throw new Error(`Cannot type dependency "${name}": its protos do not declare it`);
  }
  return protos.root.lookupService(name);
}

/**
 * What each source declares or uses, once per full name: a dependency's
 * protos are a separate protobufjs root, which may load the same files
 * (well-known types, shared protos) again.
 */
function _declaredAcross(sources: readonly _Source[]): _Declared[] {
  const byName = new Map<string, _Declared>();
  for (const { protos, services } of sources) {
    for (const object of _reachable(protos.root, new Set(configuredFiles(protos)), services)) {
      if (!byName.has(object.fullName)) byName.set(object.fullName, object);
    }
  }
  return [...byName.values()];
}

/**
 * The client interface name of each service: its handlers name with
 * `Client` for `Handlers` (so a package prefix chosen for a clash carries
 * over), numbered when a message of that name is already in `taken`.
 */
function _clientNames(
  services: readonly protobuf.Service[],
  names: TsNames,
  taken: ReadonlySet<string>,
): Map<protobuf.Service, string> {
  const used = new Set(taken);
  const chosen = new Map<protobuf.Service, string>();
  for (const service of services) {
    const name = `${names.service(service).replace(/Handlers$/, "")}Client`;
    let unique = name;
    for (let n = 2; used.has(unique); n++) unique = `${name}_${n}`;
    used.add(unique);
    chosen.set(service, unique);
  }
  return chosen;
}

/**
 * Names for the declared types and the services, looked up by full name so
 * that the objects of every root get the name of the one declared; plus
 * every identifier in use, for naming the clients.
 */
function _namesAcross(
  declared: readonly _Declared[],
  services: readonly protobuf.Service[],
): { names: TsNames; taken: Set<string> } {
  const byName = new Map<string, protobuf.Service>();
  for (const service of services) {
    if (!byName.has(service.fullName)) byName.set(service.fullName, service);
  }
  const base = assignTsNames(declared, [...byName.values()]);
  const taken = new Set(_OWN_NAMES);
  for (const object of declared) taken.add(base.type(object)).add(base.init(object));
  for (const service of byName.values()) taken.add(base.service(service));

  const typeNames = new Map<string, string>();
  for (const object of declared) {
    let name = base.type(object);
    if (_OWN_NAMES.has(name)) {
      let renamed = `${name}_`;
      for (let n = 2; taken.has(renamed) || taken.has(`${renamed}Init`); n++) {
        renamed = `${name}_${n}`;
      }
      taken.add(renamed).add(`${renamed}Init`);
      name = renamed;
    }
    typeNames.set(object.fullName, name);
  }
  const serviceNames = new Map(
    [...byName.values()].map((service) => [service.fullName, base.service(service)]),
  );
  const lookup = (map: ReadonlyMap<string, string>, object: protobuf.ReflectionObject) => {
    const name = map.get(object.fullName);
    if (name === undefined) throw new Error(`no TypeScript name for ${object.fullName}`);
    return name;
  };
  const names: TsNames = {
    type: (object) => lookup(typeNames, object),
    init: (object) => `${lookup(typeNames, object)}Init`,
    service: (service) => lookup(serviceNames, service),
  };
  return { names, taken };
}

/** Messages and enums declared in configured files, plus every type they or the services use. */
function _reachable(
  root: protobuf.Root,
  configured: ReadonlySet<string>,
  services: readonly protobuf.Service[],
): _Declared[] {
  const wanted = new Set<_Declared>();
  const stack: _Declared[] = [];
  const add = (object: protobuf.ReflectionObject | null | undefined) => {
    if (
      (object instanceof protobuf.Type || object instanceof protobuf.Enum) && !wanted.has(object)
    ) {
      wanted.add(object);
      stack.push(object);
    }
  };
  _walk(root, (object) => {
    if (configured.has(object.filename ?? "")) add(object);
  });
  for (const service of services) {
    for (const method of service.methodsArray) {
      add(method.resolvedRequestType);
      add(method.resolvedResponseType);
    }
  }
  while (stack.length) {
    const object = stack.pop()!;
    if (object instanceof protobuf.Type) {
      for (const field of object.fieldsArray) add(field.resolvedType);
    }
  }
  const ordered: _Declared[] = [];
  _walk(root, (object) => {
    if (wanted.has(object)) ordered.push(object);
  });
  return ordered;
}

function _walk(ns: protobuf.NamespaceBase, visit: (object: _Declared) => void): void {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type || child instanceof protobuf.Enum) visit(child);
    if (child instanceof protobuf.Namespace) _walk(child, visit);
  }
}
