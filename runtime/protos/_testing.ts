/**
 * Test helpers: proto sources and temporary directories to load them from.
 * @module
 */
import { dirname, join } from "node:path";

/** A greeter with all four call kinds, a well-known type and an idempotent method. */
export const GREETER_PROTO = `syntax = "proto3";
package helloworld;

import "google/protobuf/empty.proto";
import "google/protobuf/timestamp.proto";

// The greeting service.
service Greeter {
  // Sends a greeting.
  rpc SayHello (HelloRequest) returns (HelloReply) {
    option idempotency_level = NO_SIDE_EFFECTS;
  }
  rpc LotsOfReplies (HelloRequest) returns (stream HelloReply);
  rpc LotsOfGreetings (stream HelloRequest) returns (HelloReply);
  rpc BidiHello (stream HelloRequest) returns (stream HelloReply);
  rpc Ping (google.protobuf.Empty) returns (google.protobuf.Empty) {
    option idempotency_level = IDEMPOTENT;
  }
}

// The request message containing the user's name.
message HelloRequest {
  string name = 1;
  google.protobuf.Timestamp sent_at = 2;
}

message HelloReply {
  string message = 1;
}
`;

/** Nested messages and enums, maps, oneofs, 64-bit integers, bytes and well-known types. */
export const KITCHEN_PROTO = `syntax = "proto3";
package kitchen.v1;

import "google/protobuf/timestamp.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/wrappers.proto";

enum Color {
  COLOR_UNSPECIFIED = 0;
  RED = 1;
  GREEN = 2;
}

message Point {
  int32 latitude = 1;
  int32 longitude = 2;
}

message Feature {
  string name = 1;
  Point location = 2;
}

message Sink {
  message Inner {
    enum Mood { CALM = 0; ANGRY = 1; }
    Mood mood = 1;
    repeated Inner children = 2;
  }
  string text = 1;
  bool flag = 2;
  int32 i32 = 3;
  uint32 u32 = 4;
  sint32 s32 = 5;
  int64 i64 = 6;
  uint64 u64 = 7;
  sfixed64 sf64 = 8;
  double dbl = 9;
  float flt = 10;
  bytes data = 11;
  Color color = 12;
  repeated Color colors = 13;
  repeated Feature features = 14;
  map<string, int64> counts = 15;
  map<int64, string> names_by_id = 16;
  map<bool, string> by_flag = 17;
  map<int32, Point> points = 18;
  oneof choice {
    string label = 19;
    int32 number = 20;
    Point spot = 21;
  }
  optional string nickname = 22;
  google.protobuf.Timestamp created_at = 23;
  google.protobuf.Struct extra = 24;
  google.protobuf.StringValue maybe = 25;
  Inner inner = 26;
  Sink next = 27;
  repeated uint64 big_list = 28;
}

service Kitchen {
  rpc Cook (Sink) returns (Sink);
  rpc Route (stream Feature) returns (stream Feature);
}
`;

/** proto2 corners: defaults, required, groups, extensions, a reserved name, an empty service. */
export const EDGE_PROTO = `syntax = "proto2";
package edge;

import "google/protobuf/descriptor.proto";

extend google.protobuf.MethodOptions {
  optional string route = 50001;
}

message Promise {
  optional int32 a = 1 [default = 5];
  required string b = 2;
  optional group G = 3 {
    optional int32 z = 1;
  }
  map<string, E> m = 4;
  extensions 100 to 200;
}

extend Promise {
  optional string ext = 100;
}

enum E {
  A = 0;
  B = 1;
}

service Nothing {}

service Uses {
  rpc M (Promise) returns (Promise) {
    option (edge.route) = "/m";
  }
}
`;

/** Files written under a fresh temporary directory; removed by `Symbol.asyncDispose`. */
export interface ProtoDir extends AsyncDisposable {
  /** The temporary directory. */
  readonly dir: string;
  /** Absolute path of a file in it. */
  path(name: string): string;
}

/**
 * Writes `files` (relative name → text) to a new temporary directory.
 *
 * @example
 * ```ts
 * await using tmp = await protoDir({ "a.proto": 'syntax = "proto3";' });
 * ```
 */
export async function protoDir(files: Record<string, string>): Promise<ProtoDir> {
  const dir = await Deno.makeTempDir({ prefix: "svc_protos_" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return {
    dir,
    path: (name) => join(dir, name),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs `fn` and returns what it threw; fails when it does not throw. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}
