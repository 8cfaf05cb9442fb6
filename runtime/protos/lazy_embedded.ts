/**
 * `lazyEmbeddedProtos()`: the protos compiled into the runtime (health,
 * reflection) as a {@link ProtoSet} that parses them only when first used.
 *
 * Why: parsing them with protobufjs cost ~10 ms of every cold start
 * (bench/cold_start.ts, "built-ins"), although most processes never serve a
 * health or reflection call in their first seconds, and many never do. What
 * binding needs at start (services, methods, call kinds, type names) is read
 * from the sources with a scan of their `service` blocks; the first codec
 * call, or the first read of `root` or `sources` (reflection's index), parses
 * everything synchronously (embedded sources need no file reads) through
 * {@link describeEmbeddedNow}. lazy_embedded_test.ts checks that the scan and
 * the parse describe the same methods.
 * @module
 */
import protobuf from "protobufjs";
import { UserInputError } from "../core/errors.ts";
import { createCodecs } from "./codec.ts";
import { callKind, describeServices } from "./describe_services.ts";
import type { MethodDescriptor, ProtoFile, ProtoSet, ServiceDescriptor } from "./types.ts";

/** An embedded proto: import name and source. It must import nothing. */
export interface EmbeddedProto {
  readonly name: string;
  readonly source: string;
}

/** The path a built-in file reports, as loadProtos gives it. */
const builtinPath = (name: string) => `(built in) ${name}`;

/**
 * The embedded protos as a lazily parsed set. A problem in them (a bug in
 * the runtime, not the user's input) surfaces at the first use as a
 * {@link UserInputError} for `protos`, as loadProtos would throw it.
 */
export function lazyEmbeddedProtos(embedded: readonly EmbeddedProto[]): ProtoSet {
  let parsed: ProtoSet | undefined;
  const now = () => parsed ??= describeEmbeddedNow(embedded);
  const services = new Map<string, ServiceDescriptor>();
  for (const file of embedded) {
    for (const service of scanServices(file)) {
      const methods = service.methods.map((m) => lazyMethod(service.name, m, now));
      services.set(
        service.name,
        Object.freeze({ name: service.name, file: builtinPath(file.name), methods }),
      );
    }
  }
  return Object.freeze({
    services,
    files: embedded.map((f) => builtinPath(f.name)),
    get sources() {
      return now().sources;
    },
    get root() {
      return now().root;
    },
  });
}

/** Parses, resolves and describes `embedded` now (what loadProtos does, without file reads). */
export function describeEmbeddedNow(embedded: readonly EmbeddedProto[]): ProtoSet {
  const root = new protobuf.Root();
  const sources = new Map<string, ProtoFile>();
  const parse = protobuf.parse as typeof protobuf.parse & { filename: string | null };
  try {
    for (const { name, source } of embedded) {
      root.files.push(name);
      parse.filename = name;
      const result = protobuf.parse(source, root, { keepCase: false });
      if (result.imports?.length || result.weakImports?.length) {
        throw new Error(`${name}: an embedded proto must not import`);
      }
      sources.set(name, {
        name,
        path: builtinPath(name),
        package: result.package ?? "",
        syntax: /^\s*syntax\s*=\s*["']proto2["']/m.test(source) ? "proto2" : "proto3",
        imports: [],
      });
    }
    root.resolveAll();
  } catch (error) {
    throw new UserInputError("protos", [{
      file: builtinPath(embedded[0]?.name ?? "(embedded)"),
      message: `cannot load the built-in protos: ${(error as Error).message}`,
    }]);
  } finally {
    parse.filename = null;
  }
  const services = describeServices(
    root,
    new Set(sources.keys()),
    builtinPath,
    createCodecs(),
  );
  return Object.freeze({
    services,
    files: embedded.map((f) => builtinPath(f.name)),
    sources,
    root,
  });
}

interface ScannedMethod {
  name: string;
  requestType: string;
  responseType: string;
  requestStream: boolean;
  responseStream: boolean;
}

/**
 * The `service` blocks of one embedded file, from its text. Enough for the
 * simple shapes embedded protos use: types in the file's own package or
 * fully qualified, no method options (idempotency levels are not read).
 */
export function scanServices(
  file: EmbeddedProto,
): { name: string; methods: ScannedMethod[] }[] {
  const text = file.source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
  const pkg = /\bpackage\s+([\w.]+)\s*;/.exec(text)?.[1] ?? "";
  const qualify = (type: string) =>
    type.startsWith(".") ? type.slice(1) : pkg && !type.includes(".") ? `${pkg}.${type}` : type;
  const services = [];
  for (const block of text.matchAll(/\bservice\s+(\w+)\s*\{([^}]*)\}/g)) {
    const methods: ScannedMethod[] = [];
    const rpc =
      /\brpc\s+(\w+)\s*\(\s*(stream\s+)?([\w.]+)\s*\)\s*returns\s*\(\s*(stream\s+)?([\w.]+)\s*\)\s*;/g;
    for (const m of block[2].matchAll(rpc)) {
      methods.push({
        name: m[1],
        requestStream: m[2] !== undefined,
        requestType: qualify(m[3]),
        responseStream: m[4] !== undefined,
        responseType: qualify(m[5]),
      });
    }
    services.push({ name: pkg ? `${pkg}.${block[1]}` : block[1], methods });
  }
  return services;
}

/** A method whose codecs parse the embedded protos at their first call. */
function lazyMethod(
  service: string,
  scanned: ScannedMethod,
  now: () => ProtoSet,
): MethodDescriptor {
  let real: MethodDescriptor | undefined;
  const method = () =>
    real ??= now().services.get(service)?.methods.find((m) => m.name === scanned.name) ??
      missing(service, scanned.name);
  return Object.freeze({
    service,
    name: scanned.name,
    path: `/${service}/${scanned.name}`,
    kind: callKind(scanned.requestStream, scanned.responseStream),
    requestType: scanned.requestType,
    responseType: scanned.responseType,
    idempotent: false,
    noSideEffects: false,
    jsonCodec: () => method().jsonCodec!(),
    decodeRequest: (bytes: Uint8Array, charge?: (estimate: number) => void) =>
      method().decodeRequest(bytes, charge),
    encodeResponse: (value: unknown) => method().encodeResponse(value),
    encodeRequest: (value: unknown) => method().encodeRequest(value),
    decodeResponse: (bytes: Uint8Array) => method().decodeResponse(bytes),
  });
}

function missing(service: string, method: string): never {
  throw new Error(`built-in method ${service}/${method} is not in the parsed protos`);
}
