import assert from "node:assert/strict";
import { Status } from "../../core/errors.ts";
import { httpStatusForFailure } from "./http_status.ts";
import { codeFromHttpStatus } from "./connect_codes.ts";

Deno.test("httpStatusForFailure() maps each failure to its status", () => {
  assert.equal(httpStatusForFailure("unsupported-media-type"), 415);
  assert.equal(httpStatusForFailure("method-not-allowed"), 405);
  assert.equal(httpStatusForFailure("unavailable"), 503);
});

Deno.test("an unavailable server reads as UNAVAILABLE to gRPC-Web and Connect clients", () => {
  const http = httpStatusForFailure("unavailable");
  // One table serves both (connect_codes.ts): gRPC's mapping says 503 is UNAVAILABLE too.
  assert.equal(codeFromHttpStatus(http), Status.UNAVAILABLE);
  assert.equal(codeFromHttpStatus(httpStatusForFailure("unsupported-media-type")), Status.UNKNOWN);
});
