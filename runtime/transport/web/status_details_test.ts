import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { Status } from "../../core/errors.ts";
import { decodeRpcStatus, encodeRpcStatus } from "./status_details.ts";

// google/rpc/status.proto and google/protobuf/any.proto, as protobufjs reads them.
const root = protobuf.parse(
  `
  syntax = "proto3";
  package google.rpc;
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
`,
  { keepCase: true },
).root;
const StatusType = root.lookupType("google.rpc.Status");

Deno.test("encodeRpcStatus() writes what protobufjs reads as a google.rpc.Status", () => {
  const bytes = encodeRpcStatus({
    code: Status.UNAVAILABLE,
    message: "overloaded: back off ✓",
    details: [{ type: "google.rpc.RetryInfo", value: new Uint8Array([0x0a, 0x02, 0x08, 0x3c]) }],
  });
  const decoded = StatusType.toObject(StatusType.decode(bytes), { bytes: Array }) as {
    code: number;
    message: string;
    details: { type_url: string; value: number[] }[];
  };
  assert.equal(decoded.code, 14);
  assert.equal(decoded.message, "overloaded: back off ✓");
  assert.equal(decoded.details[0].type_url, "type.googleapis.com/google.rpc.RetryInfo");
  assert.deepEqual(decoded.details[0].value, [0x0a, 0x02, 0x08, 0x3c]);
});

Deno.test("decodeRpcStatus() reads protobufjs's encoding, skipping unknown fields", () => {
  const bytes = StatusType.encode(StatusType.fromObject({
    code: 5,
    message: "no user",
    details: [{ type_url: "example.com/acme.v1.Missing", value: new Uint8Array([1, 2]) }],
  })).finish();
  const withUnknown = new Uint8Array([...bytes, 0x20, 0x07, 0x2d, 1, 2, 3, 4]); // field 4 varint, field 5 fixed32
  const status = decodeRpcStatus(withUnknown);
  assert.deepEqual(status, {
    code: Status.NOT_FOUND,
    message: "no user",
    details: [{ type: "acme.v1.Missing", value: new Uint8Array([1, 2]) }],
  });
});

Deno.test("decodeRpcStatus() returns null for truncated bytes", () => {
  const bytes = encodeRpcStatus({ code: Status.INTERNAL, message: "boom", details: [] });
  assert.equal(decodeRpcStatus(bytes.subarray(0, bytes.length - 1)), null);
  assert.equal(decodeRpcStatus(new Uint8Array([0x0b])), null); // wire type 3: groups unsupported
  assert.deepEqual(decodeRpcStatus(new Uint8Array(0)), { code: 0, message: "", details: [] });
});
