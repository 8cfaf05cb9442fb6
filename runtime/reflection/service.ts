/**
 * `grpc.reflection.v1.ServerReflection` and its deprecated `v1alpha` twin,
 * answering from a {@link DescriptorIndex}.
 * @module
 */
import { Status } from "../core/errors.ts";
import { defineService, type ServiceDefinition } from "../handlers/mod.ts";
import type { CallContext } from "../core/context.ts";
import { type DescriptorIndex, fileWithDependencies } from "./file_deps.ts";

/** Fully-qualified name of the v1 reflection service. */
export const REFLECTION_V1_SERVICE = "grpc.reflection.v1.ServerReflection";
/** Fully-qualified name of the v1alpha reflection service (older grpcurl, Postman). */
export const REFLECTION_V1ALPHA_SERVICE = "grpc.reflection.v1alpha.ServerReflection";

/** `ServerReflectionRequest` as the runtime's codec decodes it. */
export interface ReflectionRequest {
  /** The host the client addressed; echoed as `valid_host`. */
  host?: string;
  /** The oneof's virtual field: which member below is set. */
  messageRequest?: string;
  /** A file by its import name, e.g. `grpc/testing/test.proto`. */
  fileByFilename?: string;
  /** A fully-qualified symbol: message, enum, service, method, field or extension. */
  fileContainingSymbol?: string;
  /** An extension, by extended message and field number. */
  fileContainingExtension?: { containingType?: string; extensionNumber?: number } | null;
  /** A fully-qualified message whose extension numbers are wanted. */
  allExtensionNumbersOfType?: string;
  /** Set (to anything) to list the services. */
  listServices?: string;
}

/** `ServerReflectionResponse`, ready for the runtime's codec; one answer member is set. */
export interface ReflectionResponse {
  /** The request's `host`. */
  validHost: string;
  /** The request, echoed. */
  originalRequest: ReflectionRequest;
  /** Serialized `FileDescriptorProto`s: the file asked for, then unsent dependencies. */
  fileDescriptorResponse?: { fileDescriptorProto: Uint8Array[] };
  /** Extension numbers of a message. */
  allExtensionNumbersResponse?: { baseTypeName: string; extensionNumber: number[] };
  /** Every served service. */
  listServicesResponse?: { service: { name: string }[] };
  /** NOT_FOUND, INVALID_ARGUMENT or INTERNAL, with a message. */
  errorResponse?: { errorCode: number; errorMessage: string };
}

/**
 * The reflection services, v1 and v1alpha, over `index`, or over the index
 * a function builds on the first reflection stream (building one costs tens
 * of milliseconds that a cold start need not pay). `listServices` names
 * every served service (health and reflection included) and is called per
 * `list_services` request.
 *
 * Within one stream, file answers carry the requested file plus those of
 * its transitive dependencies not sent earlier on that stream, as grpc-go
 * does. Unknown files, symbols and extensions get an `error_response` with
 * NOT_FOUND; a request with no question set gets INVALID_ARGUMENT. The
 * stream itself never fails because of a request.
 *
 * @example
 * ```ts
 * const services = createReflectionServices(index, () => [...served]);
 * ```
 */
export function createReflectionServices(
  index: DescriptorIndex | (() => Promise<DescriptorIndex>),
  listServices: () => string[],
): ServiceDefinition[] {
  const methods = {
    async *serverReflectionInfo(
      requests: AsyncIterable<ReflectionRequest>,
      ctx?: Pick<CallContext, "log">,
    ) {
      const resolved = typeof index === "function" ? await index() : index;
      const sent = new Set<string>();
      for await (const request of requests) {
        try {
          yield answerReflection(resolved, listServices, request, sent);
        } catch (error) {
          // A bug here must not end the client's stream; it gets INTERNAL for this request.
          ctx?.log.error("reflection request failed", { error: String(error) });
          yield {
            validHost: request.host ?? "",
            originalRequest: request,
            ..._error(Status.INTERNAL, "internal error"),
          };
        }
      }
    },
  };
  return [
    defineService(REFLECTION_V1_SERVICE, methods),
    defineService(REFLECTION_V1ALPHA_SERVICE, methods),
  ];
}

/**
 * Answers one request. `sent` holds the files already sent on this stream
 * and grows with the answer.
 *
 * @example
 * ```ts
 * const sent = new Set<string>();
 * answerReflection(index, () => ["a.B"], { listServices: "*" }, sent);
 * ```
 */
export function answerReflection(
  index: DescriptorIndex,
  listServices: () => string[],
  request: ReflectionRequest,
  sent: Set<string>,
): ReflectionResponse {
  const base = { validHost: request.host ?? "", originalRequest: request };
  return { ...base, ..._answer(index, listServices, request, sent) };
}

type _Answer = Omit<ReflectionResponse, "validHost" | "originalRequest">;

function _answer(
  index: DescriptorIndex,
  listServices: () => string[],
  request: ReflectionRequest,
  sent: Set<string>,
): _Answer {
  const files = (name: string) => {
    const found = fileWithDependencies(index, name, sent);
    return found && { fileDescriptorResponse: { fileDescriptorProto: found } };
  };
  switch (_which(request)) {
    case "fileByFilename": {
      const name = request.fileByFilename ?? "";
      return files(name) ?? _error(Status.NOT_FOUND, `file not found: "${name}"`);
    }
    case "fileContainingSymbol": {
      const symbol = (request.fileContainingSymbol ?? "").replace(/^\./, "");
      const file = index.symbols.get(symbol);
      return (file ? files(file) : null) ??
        _error(Status.NOT_FOUND, `symbol not found: "${symbol}"`);
    }
    case "fileContainingExtension": {
      const type = (request.fileContainingExtension?.containingType ?? "").replace(/^\./, "");
      const number = request.fileContainingExtension?.extensionNumber ?? 0;
      const file = index.extensions.get(type)?.get(number);
      return (file ? files(file) : null) ??
        _error(Status.NOT_FOUND, `extension not found: "${type}" has no extension ${number}`);
    }
    case "allExtensionNumbersOfType": {
      const type = (request.allExtensionNumbersOfType ?? "").replace(/^\./, "");
      if (!index.messages.has(type)) return _error(Status.NOT_FOUND, `type not found: "${type}"`);
      const numbers = [...(index.extensions.get(type)?.keys() ?? [])].sort((a, b) => a - b);
      return { allExtensionNumbersResponse: { baseTypeName: type, extensionNumber: numbers } };
    }
    case "listServices":
      return {
        listServicesResponse: { service: listServices().map((name) => ({ name })) },
      };
    default:
      return _error(Status.INVALID_ARGUMENT, "invalid request: no message_request field is set");
  }
}

const _MEMBERS = [
  "fileByFilename",
  "fileContainingSymbol",
  "fileContainingExtension",
  "allExtensionNumbersOfType",
  "listServices",
] as const;

function _which(request: ReflectionRequest): (typeof _MEMBERS)[number] | null {
  const named = _MEMBERS.find((m) => m === request.messageRequest);
  if (named) return named;
  return _MEMBERS.find((m) => request[m] !== undefined && request[m] !== null) ?? null;
}

function _error(code: Status, message: string): _Answer {
  return { errorResponse: { errorCode: code, errorMessage: message } };
}
