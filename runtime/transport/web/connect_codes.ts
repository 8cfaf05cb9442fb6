/**
 * Connect's error codes (connectrpc.com/docs/protocol#error-codes): the
 * snake_case names svc's Status travels under, the HTTP status a unary
 * error is sent with, and the code a client infers from a bare HTTP status
 * (#http-to-error-code).
 * @module
 */
import { Status } from "../../core/errors.ts";

// Indexed by Status. The spec's "Code" column: gRPC's names in snake_case,
// but "canceled" with one "l".
const CODE_NAMES: readonly string[] = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

// Indexed by Status: the spec's "HTTP Status" column.
const HTTP_STATUS: readonly number[] = [
  200, // ok: not an error; listed so the table is total
  499, // canceled: Client Closed Request
  500, // unknown
  400, // invalid_argument
  504, // deadline_exceeded: Gateway Timeout
  404, // not_found
  409, // already_exists: Conflict
  403, // permission_denied
  429, // resource_exhausted: Too Many Requests
  400, // failed_precondition
  409, // aborted: Conflict
  400, // out_of_range
  501, // unimplemented
  500, // internal
  503, // unavailable
  500, // data_loss
  401, // unauthenticated
];

const BY_NAME = new Map(CODE_NAMES.map((name, code) => [name, code as Status]));

/**
 * The Connect name of a status; `unknown` for a number outside the table.
 *
 * @example
 * ```ts
 * connectCodeName(Status.INVALID_ARGUMENT); // "invalid_argument"
 * ```
 */
export function connectCodeName(code: Status): string {
  return CODE_NAMES[code] ?? "unknown";
}

/**
 * The status a Connect code name stands for, or undefined for a name the
 * spec does not list ("there are no user-defined codes"). `ok` is not an
 * error code, so it is undefined too.
 *
 * @example
 * ```ts
 * statusFromConnectCode("permission_denied"); // Status.PERMISSION_DENIED
 * ```
 */
export function statusFromConnectCode(name: string): Status | undefined {
  const code = BY_NAME.get(name);
  return code === Status.OK ? undefined : code;
}

/**
 * The HTTP status a Connect unary error response carries; 500 (as for
 * `unknown`) for a number outside the table.
 *
 * @example
 * ```ts
 * httpStatusForCode(Status.RESOURCE_EXHAUSTED); // 429
 * ```
 */
export function httpStatusForCode(code: Status): number {
  return code === Status.OK ? 500 : HTTP_STATUS[code] ?? 500;
}

/**
 * The code a client infers from an HTTP status when the body names none
 * (the spec's #http-to-error-code table). gRPC and gRPC-Web clients infer
 * the same codes (doc/http-grpc-status-mapping.md), so this serves them too.
 *
 * @example
 * ```ts
 * codeFromHttpStatus(404); // Status.UNIMPLEMENTED
 * ```
 */
export function codeFromHttpStatus(httpStatus: number): Status {
  switch (httpStatus) {
    case 400:
      return Status.INTERNAL;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE;
    default:
      return Status.UNKNOWN;
  }
}
