/**
 * grpc/health/v1/health.proto, embedded so the health service needs no file
 * on disk (compiled binaries, scratch containers). Same package, messages
 * and wire format as gRPC's; includes the newer `List` method.
 * @module
 */

/** Import name and source of the health proto. */
export const HEALTH_PROTO = {
  name: "grpc/health/v1/health.proto",
  source: `syntax = "proto3";

package grpc.health.v1;

option go_package = "google.golang.org/grpc/health/grpc_health_v1";
option java_multiple_files = true;
option java_outer_classname = "HealthProto";
option java_package = "io.grpc.health.v1";

message HealthCheckRequest {
  string service = 1;
}

message HealthCheckResponse {
  enum ServingStatus {
    UNKNOWN = 0;
    SERVING = 1;
    NOT_SERVING = 2;
    SERVICE_UNKNOWN = 3;  // Used only by the Watch method.
  }
  ServingStatus status = 1;
}

message HealthListRequest {}

message HealthListResponse {
  map<string, HealthCheckResponse> statuses = 1;
}

service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc List(HealthListRequest) returns (HealthListResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
`,
} as const;
