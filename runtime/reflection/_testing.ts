/**
 * Test helpers: protos with every descriptor feature, and protoc's own
 * descriptors to compare the index against. Not a test file.
 * @module
 */
import { dirname, join } from "node:path";
import protobuf from "protobufjs";
import { type DecodedFile, type DecodedMessage, decodeFileDescriptor } from "./descriptor_types.ts";
import { WELL_KNOWN_FILES, wellKnownDescriptor } from "./wkt_descriptors.ts";

/** Where Debian's grpc-proto package puts the gRPC protos. */
export const GRPC_PROTO_DIR = "/usr/share/grpc-proto";

/**
 * proto3: nested messages and enums, maps (scalar, enum and message values),
 * oneofs, proto3 optional (one with a leading underscore), json_name,
 * reserved ranges, aliases, a public import, well-known types, empty method
 * bodies and standard options.
 */
export const KITCHEN_PROTO = `syntax = "proto3";
package kitchen.v1;

import "google/protobuf/timestamp.proto";
import public "kitchen/v1/common.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/struct.proto";

option java_package = "com.example.kitchen";
option go_package = "example.com/kitchen;kitchen"; // a "//" inside a string

enum Color {
  option allow_alias = true;
  COLOR_UNSPECIFIED = 0;
  RED = 1;
  CRIMSON = 1 [deprecated = true];
  GREEN = 2;
  reserved 10 to 20, 30;
  reserved "BLUE";
}

/* A block comment with an import "not/a/dependency.proto"; in it. */
message Sink {
  option deprecated = true;
  message Inner {
    enum Mood { CALM = 0; ANGRY = 1; }
    Mood mood = 1;
    repeated Inner children = 2;
    map<string, Inner> by_name = 3;
  }
  map<string, int64> counts = 15;
  string text = 1;
  bool flag = 2 [deprecated = true];
  int32 i32 = 3;
  uint32 u32 = 4;
  sint32 s32 = 5;
  int64 i64 = 6 [jstype = JS_STRING];
  uint64 u64 = 7;
  sfixed64 sf64 = 8;
  double dbl = 9;
  float flt = 10;
  bytes data = 11;
  Color color = 12;
  repeated Color colors = 13 [packed = false];
  repeated Point features = 14;
  map<int64, string> names_by_id = 16;
  map<bool, Color> by_flag = 17;
  oneof choice {
    string label = 19;
    int32 number = 20;
    Point spot = 21;
  }
  optional string nick_name = 22;
  optional int32 _under = 29;
  google.protobuf.Timestamp created_at = 23;
  google.protobuf.Struct extra = 24;
  google.protobuf.StringValue maybe = 25;
  Inner inner = 26;
  Sink next = 27;
  repeated uint64 big_list = 28;
  string renamed = 30 [json_name = "otherName"];
  string field_1 = 31;
  string snake__double = 32;
  reserved 100, 200 to 300;
  reserved "old_field";
  oneof second { bool a = 40; bool b = 41; }
  optional Inner maybe_inner = 42;
}

service Kitchen {
  option deprecated = true;
  rpc Cook (Sink) returns (Sink);
  rpc Route (stream Point) returns (stream Point) {}
  rpc Peek (Sink) returns (stream Sink) { option idempotency_level = NO_SIDE_EFFECTS; }
  rpc Push (stream Sink) returns (Sink) {
    option deprecated = true;
    option idempotency_level = IDEMPOTENT;
  }
}
`;

/** Imported publicly by {@link KITCHEN_PROTO}. */
export const COMMON_PROTO = `syntax = "proto3";
package kitchen.v1;
message Point { int32 latitude = 1; int32 longitude = 2; }
`;

/**
 * proto2: groups, required fields, defaults, extension ranges, extensions
 * (top-level and nested), and custom options of every kind (scalar,
 * repeated, enum, message, and a message set field by field).
 */
export const EDGE_PROTO = `syntax = "proto2";
package edge;

import "google/protobuf/descriptor.proto";

message Http {
  optional string get = 1;
  optional string body = 2;
  repeated Http additional = 3;
}

extend google.protobuf.MethodOptions {
  optional string route = 50001;
  optional Http http = 50002;
  repeated int32 nums = 50003;
  optional E level = 50004;
}
extend google.protobuf.FieldOptions { optional int32 field_weight = 50010; }
extend google.protobuf.FileOptions { optional string file_tag = 50020; }
extend google.protobuf.MessageOptions { optional bool my_flag = 50030; }
extend google.protobuf.ServiceOptions { optional string svc_tag = 50040; }
extend google.protobuf.EnumValueOptions { optional string label = 50050; }

option (file_tag) = "edgy";
option java_outer_classname = "EdgeProto";

message Promise {
  option (my_flag) = true;
  optional int32 a = 1 [default = 5, (field_weight) = 7];
  required string b = 2 [default = "hi there"];
  optional group G = 3 {
    optional int32 z = 1;
  }
  repeated group MyGroup = 10 {
    required string y = 1;
  }
  map<string, E> m = 4;
  optional double d = 5 [default = inf];
  optional float f = 6 [default = -1.5];
  optional E e = 7 [default = B];
  optional bool t = 8 [default = true];
  repeated int32 packed_ints = 9 [packed = true];
  optional int64 big = 11 [default = -9000000000];
  optional sint32 neg = 12 [default = -3];
  extensions 100 to 200, 1000 to max;
  extend Promise {
    optional string nested_ext = 101;
  }
  oneof which { string w1 = 13; int32 w2 = 14; }
}

extend Promise {
  optional string ext = 100;
  repeated int32 ext_list = 102;
}

enum E {
  A = 0 [(label) = "first"];
  B = 1;
}

service Nothing {}

service Uses {
  option (svc_tag) = "uses";
  rpc M (Promise) returns (Promise) {
    option (route) = "/m";
    option (http) = { get: "/v1/m" body: "*" additional { get: "/v2/m" } };
    option (nums) = 1;
    option (nums) = 2;
    option (level) = B;
    option idempotency_level = IDEMPOTENT;
  }
  rpc N (Promise) returns (Promise) {
    option (http).get = "/n";
    option (http).body = "x";
  }
}
`;

/** Why protoc cannot run here, or null when it can. */
export async function protocMissing(): Promise<string | null> {
  try {
    const { code } = await new Deno.Command("protoc", { args: ["--version"], stdout: "null" })
      .output();
    return code === 0 ? null : "protoc does not run";
  } catch {
    return "protoc is not installed (apt-get install protobuf-compiler)";
  }
}

/** Files written under a fresh temporary directory; removed on dispose. */
export interface TempProtos extends AsyncDisposable {
  readonly dir: string;
}

/** Writes `files` (import name → text) under a new temporary directory. */
export async function tempProtos(files: Record<string, string>): Promise<TempProtos> {
  const dir = await Deno.makeTempDir({ prefix: "svc_reflection_" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** Serializes a `FileDescriptorSet` holding `files`. */
export function encodeSet(files: readonly Uint8Array[]): Uint8Array {
  const writer = protobuf.Writer.create();
  for (const f of files) writer.uint32(10).bytes(f);
  return writer.finish();
}

/** The serialized files of a `FileDescriptorSet`. */
export function splitSet(bytes: Uint8Array): Uint8Array[] {
  const reader = protobuf.Reader.create(bytes);
  const out: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === 10) out.push(reader.bytes());
    else reader.skipType(tag & 7);
  }
  return out;
}

/** Runs protoc; rejects with its stderr on failure. Returns stdout. */
export async function protoc(args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("protoc", {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(`protoc failed: ${new TextDecoder().decode(stderr)}`);
  return stdout;
}

/** Writes the built-in well-known types as a descriptor set for `--descriptor_set_in`. */
export async function writeWellKnownSet(path: string): Promise<void> {
  await Deno.writeFile(path, encodeSet(WELL_KNOWN_FILES.map((n) => wellKnownDescriptor(n)!)));
}

/**
 * `protoc --descriptor_set_out --include_imports` for `files` (names
 * relative to `includes`), the well-known types coming from
 * {@link writeWellKnownSet}. Returns the serialized files by name.
 */
export async function protocDescriptors(
  files: readonly string[],
  includes: readonly string[],
): Promise<Map<string, Uint8Array>> {
  const dir = await Deno.makeTempDir({ prefix: "svc_protoc_" });
  try {
    const wkt = join(dir, "wkt.pb");
    await writeWellKnownSet(wkt);
    const out = join(dir, "out.pb");
    await protoc([
      `--descriptor_set_in=${wkt}`,
      ...includes.map((i) => `-I${i}`),
      `--descriptor_set_out=${out}`,
      "--include_imports",
      ...files,
    ]);
    const list = splitSet(await Deno.readFile(out));
    return new Map(list.map((bytes) => [decodeFileDescriptor(bytes).name, bytes]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A serialized file decoded, with what may legitimately differ from protoc
 * made canonical: nested messages sorted by name (protoc interleaves map
 * entries with declared messages), source info dropped.
 */
export function normalized(bytes: Uint8Array): DecodedFile {
  const copy = decodeFileDescriptor(bytes);
  delete copy.sourceCodeInfo;
  const sortNested = (message: DecodedMessage) => {
    message.nestedType.sort((a, b) => a.name.localeCompare(b.name));
    message.nestedType.forEach(sortNested);
  };
  for (const m of copy.messageType) sortNested(m);
  return copy;
}
