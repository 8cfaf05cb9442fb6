import assert from "node:assert/strict";
import { Status } from "../../core/errors.ts";
import { Metadata } from "../../core/metadata.ts";
import {
  connectErrorJson,
  decodeConnectError,
  decodeEndStream,
  encodeConnectError,
  encodeEndStream,
} from "./connect_error.ts";
import { decodeRpcStatus, encodeRpcStatus, STATUS_DETAILS_KEY } from "./status_details.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const RETRY_INFO = new Uint8Array([0x0a, 0x02, 0x08, 0x3c]); // retry_delay { seconds: 60 }

Deno.test("encodeConnectError() writes the spec's unimplemented example", () => {
  const body = encodeConnectError({
    code: Status.UNIMPLEMENTED,
    message: "connectrpc.greet.v1.GreetService/Greet is not implemented",
    trailers: null,
  });
  assert.deepEqual(JSON.parse(text(body)), {
    code: "unimplemented",
    message: "connectrpc.greet.v1.GreetService/Greet is not implemented",
  });
});

Deno.test("connectErrorJson() omits an empty message and takes details from grpc-status-details-bin", () => {
  const trailers = Metadata.from({
    [STATUS_DETAILS_KEY]: encodeRpcStatus({
      code: Status.UNAVAILABLE,
      message: "overloaded: back off and retry",
      details: [{ type: "google.rpc.RetryInfo", value: RETRY_INFO }],
    }),
  });
  assert.deepEqual(connectErrorJson({ code: Status.UNAVAILABLE, message: "", trailers }), {
    code: "unavailable",
    // The spec's example value: unpadded base64.
    details: [{ type: "google.rpc.RetryInfo", value: "CgIIPA" }],
  });
  // Garbage in the trailer is not sent as details.
  const garbage = Metadata.from({ [STATUS_DETAILS_KEY]: new Uint8Array([0xff]) });
  assert.deepEqual(connectErrorJson({ code: Status.INTERNAL, message: "x", trailers: garbage }), {
    code: "internal",
    message: "x",
  });
});

Deno.test("decodeConnectError() reads the spec's details example back into grpc-status-details-bin", () => {
  const error = decodeConnectError(
    '{"code":"unavailable","message":"overloaded: back off and retry",' +
      '"details":[{"type":"google.rpc.RetryInfo","value":"CgIIPA","debug":{"retryDelay":"30s"}}]}',
    Status.UNKNOWN,
  );
  assert.equal(error.code, Status.UNAVAILABLE);
  assert.equal(error.message, "overloaded: back off and retry");
  const status = decodeRpcStatus(error.metadata[STATUS_DETAILS_KEY] as Uint8Array);
  assert.deepEqual(status, {
    code: Status.UNAVAILABLE,
    message: "overloaded: back off and retry",
    details: [{ type: "google.rpc.RetryInfo", value: RETRY_INFO }],
  });
});

Deno.test("decodeConnectError() falls back to the HTTP-implied code on bad bodies", () => {
  for (const body of ["", "not json", "{}", '{"code":null}', "[]", '{"code":"unknown_code"}']) {
    assert.equal(decodeConnectError(body, Status.UNAVAILABLE).code, Status.UNAVAILABLE, body);
  }
  assert.equal(decodeConnectError('{"code":"ok"}', Status.UNKNOWN).code, Status.UNKNOWN);
  assert.equal(decodeConnectError('{"code":"internal","message":7}', Status.UNKNOWN).message, "");
});

Deno.test("encodeConnectError() and decodeConnectError() round-trip every code", () => {
  for (let code = 1; code <= 16; code++) {
    const error = decodeConnectError(
      encodeConnectError({ code, message: `m${code} ✓`, trailers: null }),
      Status.UNKNOWN,
    );
    assert.deepEqual([error.code, error.message], [code, `m${code} ✓`]);
  }
});

Deno.test("encodeEndStream() writes {} for success and the spec's error example", () => {
  assert.equal(text(encodeEndStream({ code: Status.OK, message: "", trailers: null })), "{}");
  const failed = encodeEndStream({
    code: Status.UNAVAILABLE,
    message: "",
    trailers: Metadata.from({ "acme-operation-cost": "237" }),
  });
  assert.deepEqual(JSON.parse(text(failed)), {
    error: { code: "unavailable" },
    metadata: { "acme-operation-cost": ["237"] },
  });
  // The details trailer travels in error.details only.
  const withDetails = encodeEndStream({
    code: Status.ABORTED,
    message: "retry",
    trailers: Metadata.from({
      [STATUS_DETAILS_KEY]: encodeRpcStatus({ code: Status.ABORTED, message: "", details: [] }),
    }),
  });
  assert.deepEqual(JSON.parse(text(withDetails)), { error: { code: "aborted", message: "retry" } });
});

Deno.test("decodeEndStream() reads encodeEndStream() and refuses the spec's invalid forms", () => {
  const end = decodeEndStream(encodeEndStream({
    code: Status.NOT_FOUND,
    message: "gone",
    trailers: Metadata.from({ "x-id-bin": new Uint8Array([7]) }),
  }));
  assert.equal(end?.error?.code, Status.NOT_FOUND);
  assert.equal(end?.error?.message, "gone");
  assert.deepEqual(end?.metadata.get("x-id-bin"), new Uint8Array([7]));
  assert.equal(decodeEndStream(new TextEncoder().encode("{}"))?.error, null);
  for (const bad of ['{"error":null}', '{"error":{}}', '{"error":{"code":null}}', "[]", "x"]) {
    assert.equal(decodeEndStream(new TextEncoder().encode(bad)), null, bad);
  }
});
