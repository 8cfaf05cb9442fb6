import assert from "node:assert/strict";
import { GO_CODE_NAMES, Status } from "../../core/errors.ts";
import {
  codeFromHttpStatus,
  connectCodeName,
  httpStatusForCode,
  statusFromConnectCode,
} from "./connect_codes.ts";

// The spec's Error Codes table, verbatim (connectrpc.com/docs/protocol#error-codes).
const SPEC_TABLE: [string, number][] = [
  ["canceled", 499],
  ["unknown", 500],
  ["invalid_argument", 400],
  ["deadline_exceeded", 504],
  ["not_found", 404],
  ["already_exists", 409],
  ["permission_denied", 403],
  ["resource_exhausted", 429],
  ["failed_precondition", 400],
  ["aborted", 409],
  ["out_of_range", 400],
  ["unimplemented", 501],
  ["internal", 500],
  ["unavailable", 503],
  ["data_loss", 500],
  ["unauthenticated", 401],
];

Deno.test("connect code names and HTTP statuses follow the spec's table for every status", () => {
  SPEC_TABLE.forEach(([name, http], i) => {
    const code = (i + 1) as Status;
    assert.equal(connectCodeName(code), name);
    assert.equal(statusFromConnectCode(name), code);
    assert.equal(httpStatusForCode(code), http, name);
  });
});

Deno.test("connect code names are gRPC's names in snake_case", () => {
  for (let code = 1; code <= 16; code++) {
    const snake = GO_CODE_NAMES[code].replace(
      /[A-Z]/g,
      (c, at) => (at ? "_" : "") + c.toLowerCase(),
    );
    assert.equal(connectCodeName(code), snake);
  }
});

Deno.test("statusFromConnectCode() refuses names the spec does not list, and ok", () => {
  assert.equal(statusFromConnectCode("ok"), undefined);
  assert.equal(statusFromConnectCode("cancelled"), undefined);
  assert.equal(statusFromConnectCode("NOT_FOUND"), undefined);
  assert.equal(statusFromConnectCode("teapot"), undefined);
});

Deno.test("out-of-table statuses read as unknown and 500", () => {
  assert.equal(connectCodeName(42 as Status), "unknown");
  assert.equal(httpStatusForCode(42 as Status), 500);
  assert.equal(httpStatusForCode(Status.OK), 500);
});

Deno.test("codeFromHttpStatus() follows the spec's HTTP-to-code table", () => {
  const table: [number, Status][] = [
    [400, Status.INTERNAL],
    [401, Status.UNAUTHENTICATED],
    [403, Status.PERMISSION_DENIED],
    [404, Status.UNIMPLEMENTED],
    [429, Status.UNAVAILABLE],
    [502, Status.UNAVAILABLE],
    [503, Status.UNAVAILABLE],
    [504, Status.UNAVAILABLE],
    [500, Status.UNKNOWN],
    [418, Status.UNKNOWN],
  ];
  for (const [http, code] of table) assert.equal(codeFromHttpStatus(http), code, String(http));
});
