/**
 * What the proto loader hands the rest of the runtime: services, methods and
 * their codecs. Nothing outside runtime/protos/ touches protobufjs types
 * except reflection, through `root`.
 * @module
 */
import type protobuf from "protobufjs";
import type { CallKind } from "../core/context.ts";

export type { CallKind };

/**
 * Thrown by `encodeResponse` (and `encodeRequest`) when a value does not fit
 * the message type. `message` reads like
 * `helloworld.HelloReply.message: expected string, got number` or
 * `unknown field "foo" in helloworld.HelloReply (did you mean "fooBar"?)`.
 */
export class MessageShapeError extends Error {
  override readonly name = "MessageShapeError";
  /**
   * Path of the offending field from the top-level message, e.g.
   * `features[2].location.latitude` or `labels["k"]`; "" when the value
   * itself is not an object.
   */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** One RPC method of a loaded service. */
export interface MethodDescriptor {
  /** Fully-qualified service name, e.g. `helloworld.Greeter`. */
  readonly service: string;
  /** Method name as in the proto, e.g. `SayHello`. */
  readonly name: string;
  /** `/helloworld.Greeter/SayHello`. */
  readonly path: string;
  readonly kind: CallKind;
  /** Fully-qualified message type names. */
  readonly requestType: string;
  readonly responseType: string;
  /** True when the proto marks the method `idempotency_level = IDEMPOTENT` or `NO_SIDE_EFFECTS`. */
  readonly idempotent: boolean;
  /** True when the proto marks the method `idempotency_level = NO_SIDE_EFFECTS` (Connect GET). */
  readonly noSideEffects?: boolean;
  /**
   * Canonical-JSON converters for the request and response types (Connect
   * and gRPC-Web `+json`). Built on first call, and the JSON mapping
   * modules loaded then: a service nobody calls with JSON pays nothing.
   */
  readonly jsonCodec?: () => Promise<MethodJsonCodec>;
  /**
   * Decodes request bytes into a plain object: camelCase field names, every
   * field present (defaults filled), 64-bit integers as decimal strings, enums
   * as their names (unknown numbers stay numbers), bytes as Uint8Array (a
   * Buffer), unset singular message fields as `null`, oneofs with a virtual
   * field naming the set member (members absent unless set). proto3
   * `optional` fields are absent unless set, and then come with protobufjs's
   * synthetic virtual field (`_nick: "nick"`). Throws on malformed bytes.
   * `charge` is told the estimated decoded size of a large message first
   * (see decode_cost.ts) and may throw to refuse it.
   */
  decodeRequest(bytes: Uint8Array, charge?: (estimate: number) => void): unknown;
  /**
   * Checks a handler's returned value against the response type and encodes
   * it. Accepts: missing, `undefined` or `null` fields (unset); 64-bit
   * integers as number, bigint, decimal string or Long; enums as name or
   * int32 number; bytes as Uint8Array or base64 string; oneof virtual fields
   * naming the set member; anything `decodeRequest` returns. Throws
   * MessageShapeError naming the field on anything else, including unknown
   * fields, two members of one oneof, and a non-plain object.
   */
  encodeResponse(value: unknown): Uint8Array;
  /** The same pair the other way round, for clients. */
  encodeRequest(value: unknown): Uint8Array;
  decodeResponse(bytes: Uint8Array): unknown;
}

/** A method's canonical-JSON converters; both throw JsonMappingError naming the field. */
export interface MethodJsonCodec {
  requestToBinary(json: string): Uint8Array;
  responseToJson(bytes: Uint8Array): string;
}

/** One service of the loaded protos. */
export interface ServiceDescriptor {
  /** Fully-qualified, e.g. `helloworld.Greeter`. */
  readonly name: string;
  /** Absolute path of the .proto file that declares it. */
  readonly file: string;
  readonly methods: readonly MethodDescriptor[];
}

/**
 * One loaded .proto file: configured, imported from disk, or a well-known
 * type built into the runtime. Reflection uses these to rebuild file
 * descriptors; every protobufjs object's `filename` is the file's `name`.
 */
export interface ProtoFile {
  /** The name imports use, e.g. `grpc/testing/empty.proto` or `google/protobuf/empty.proto`. */
  readonly name: string;
  /** Absolute path on disk, or null for a built-in well-known type. */
  readonly path: string | null;
  /** Package, or "" when the file declares none. */
  readonly package: string;
  /** `proto2`, `proto3`, or `editions`. */
  readonly syntax: "proto2" | "proto3" | "editions";
  /** Names of the files it imports (public and weak included), in source order. */
  readonly imports: readonly string[];
}

/** Everything loaded from the configured protos. */
export interface ProtoSet {
  /**
   * By fully-qualified service name, in declaration order. Only services
   * declared in configured files; services in imported files are not served.
   */
  readonly services: ReadonlyMap<string, ServiceDescriptor>;
  /** Absolute paths of the configured .proto files that were loaded (not counting imports). */
  readonly files: readonly string[];
  /** Every loaded file, configured, imported and built in, by name, in load order. */
  readonly sources: ReadonlyMap<string, ProtoFile>;
  /**
   * The protobufjs root (camelCase field names, comments kept), for
   * reflection and type generation. Each object's `filename` is the name of
   * its file in `sources`.
   */
  readonly root: protobuf.Root;
}
