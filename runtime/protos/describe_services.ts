/**
 * Turns the protobufjs services of the configured files into
 * {@link ServiceDescriptor}s with their methods' codecs.
 * @module
 */
import protobuf from "protobufjs";
import type { MessageCodec } from "./codec.ts";
import type { CallKind, MethodDescriptor, MethodJsonCodec, ServiceDescriptor } from "./types.ts";
import { lazyModule } from "../util/descriptor_headroom.ts";

/**
 * Describes every service declared in a file named in `files` (by protobufjs
 * `filename`), in declaration order. `pathOf` maps a file name to its path.
 *
 * @example
 * ```ts
 * const services = describeServices(root, new Set(["helloworld.proto"]), (n) => n, createCodecs());
 * ```
 */
export function describeServices(
  root: protobuf.Root,
  files: ReadonlySet<string>,
  pathOf: (name: string) => string,
  codecFor: (type: protobuf.Type) => MessageCodec,
): Map<string, ServiceDescriptor> {
  const services = new Map<string, ServiceDescriptor>();
  _walk(root, (service) => {
    if (!files.has(service.filename ?? "")) return;
    const name = service.fullName.slice(1);
    const methods = service.methodsArray.map((method) => describeMethod(name, method, codecFor));
    services.set(name, Object.freeze({ name, file: pathOf(service.filename ?? ""), methods }));
  });
  return services;
}

/** Describes one resolved method of service `service`. */
export function describeMethod(
  service: string,
  method: protobuf.Method,
  codecFor: (type: protobuf.Type) => MessageCodec,
): MethodDescriptor {
  method.resolve();
  const request = codecFor(method.resolvedRequestType!);
  const response = codecFor(method.resolvedResponseType!);
  return Object.freeze({
    service,
    name: method.name,
    path: `/${service}/${method.name}`,
    kind: callKind(method.requestStream === true, method.responseStream === true),
    requestType: method.resolvedRequestType!.fullName.slice(1),
    responseType: method.resolvedResponseType!.fullName.slice(1),
    idempotent: isIdempotent(method),
    noSideEffects: idempotencyLevel(method) === "NO_SIDE_EFFECTS",
    jsonCodec: lazyJsonCodec(method.resolvedRequestType!, method.resolvedResponseType!),
    decodeRequest: request.decode,
    encodeResponse: response.encode,
    encodeRequest: request.encode,
    decodeResponse: response.decode,
  });
}

/** The call kind from the two stream flags. */
export function callKind(requestStream: boolean, responseStream: boolean): CallKind {
  if (requestStream) return responseStream ? "bidi_stream" : "client_stream";
  return responseStream ? "server_stream" : "unary";
}

/** True when the method's `idempotency_level` option is IDEMPOTENT or NO_SIDE_EFFECTS. */
export function isIdempotent(method: protobuf.Method): boolean {
  const level = idempotencyLevel(method);
  return level === "IDEMPOTENT" || level === "NO_SIDE_EFFECTS";
}

/** The method's `idempotency_level` by name, or null when unset or unknown. */
function idempotencyLevel(method: protobuf.Method): "IDEMPOTENT" | "NO_SIDE_EFFECTS" | null {
  const level = method.options?.["idempotency_level"] ??
    (method.parsedOptions as Record<string, unknown>[] | null)
      ?.find((o) => "idempotency_level" in o)?.["idempotency_level"];
  if (level === "NO_SIDE_EFFECTS" || level === 1) return "NO_SIDE_EFFECTS";
  if (level === "IDEMPOTENT" || level === 2) return "IDEMPOTENT";
  return null;
}

/**
 * Loads the JSON mapping: at the first Connect JSON call, or earlier from
 * app/warm_lazy_modules.ts so that call needs no module load.
 */
export const warmJsonCodec: () => Promise<typeof import("./json_codec.ts")> = lazyModule(
  () => import("./json_codec.ts"),
  "the JSON codec",
);

/**
 * A converter factory that imports the JSON mapping and builds the pair on
 * first use, then returns the same pair: nothing is loaded or built for a
 * method no one calls with JSON.
 */
function lazyJsonCodec(
  requestType: protobuf.Type,
  responseType: protobuf.Type,
): () => Promise<MethodJsonCodec> {
  let codec: Promise<MethodJsonCodec> | null = null;
  return () =>
    codec ??= warmJsonCodec().then(({ binaryToJson, jsonToBinary }) => ({
      requestToBinary: (json: string) => jsonToBinary(requestType, json),
      responseToJson: (bytes: Uint8Array) => binaryToJson(responseType, bytes),
    }), (error) => {
      // Not kept: a load that failed (e.g. EMFILE) is tried again by the next call.
      codec = null;
      throw error;
    });
}

function _walk(ns: protobuf.NamespaceBase, visit: (service: protobuf.Service) => void): void {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Service) visit(child);
    if (child instanceof protobuf.Namespace) _walk(child, visit);
  }
}
