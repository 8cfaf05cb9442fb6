import assert from "node:assert/strict";
import { Status } from "../../core/errors.ts";
import { Metadata } from "../../core/metadata.ts";
import { encodeGrpcWebTrailers, parseGrpcWebTrailers } from "./grpc_web.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("encodeGrpcWebTrailers() writes an 0x80 envelope of CRLF lines, no final empty line", () => {
  const frame = encodeGrpcWebTrailers({ code: Status.OK, message: "", trailers: null });
  const block = "grpc-status: 0\r\n";
  assert.deepEqual([...frame.subarray(0, 5)], [0x80, 0, 0, 0, block.length]);
  assert.equal(text(frame.subarray(5)), block);
});

Deno.test("encodeGrpcWebTrailers() percent-encodes grpc-message and base64s -bin trailers", () => {
  const trailers = Metadata.from({
    "x-cost": "237",
    "x-trace-bin": new Uint8Array([0xff, 0x00, 0x01]),
    "grpc-status": "forged", // reserved: the real status wins
  });
  const frame = encodeGrpcWebTrailers({
    code: Status.NOT_FOUND,
    message: "no user 50% ✓\n",
    trailers,
  });
  assert.equal(
    text(frame.subarray(5)),
    "grpc-status: 5\r\ngrpc-message: no user 50%25 %E2%9C%93%0A\r\n" +
      "x-cost: 237\r\nx-trace-bin: /wAB\r\n",
  );
  const length = new DataView(frame.buffer).getUint32(1);
  assert.equal(length, frame.length - 5);
});

Deno.test("encodeGrpcWebTrailers() drops a value that would forge lines", () => {
  const frame = encodeGrpcWebTrailers({
    code: Status.OK,
    message: "",
    trailers: Metadata.from({ "x-evil": "a\r\ngrpc-status: 0" }),
  });
  assert.equal(text(frame.subarray(5)), "grpc-status: 0\r\n");
});

Deno.test("parseGrpcWebTrailers() reads what encodeGrpcWebTrailers() writes", () => {
  const trailers = Metadata.from({ "x-cost": ["1", "2"], "x-id-bin": new Uint8Array([1, 2, 3]) });
  const frame = encodeGrpcWebTrailers({
    code: Status.UNAVAILABLE,
    message: "überlastet 100%",
    trailers,
  });
  const parsed = parseGrpcWebTrailers(frame.subarray(5));
  assert.equal(parsed.code, Status.UNAVAILABLE);
  assert.equal(parsed.message, "überlastet 100%");
  assert.deepEqual(parsed.metadata.getAll("x-cost"), ["1", "2"]);
  assert.deepEqual(parsed.metadata.get("x-id-bin"), new Uint8Array([1, 2, 3]));
});

Deno.test("parseGrpcWebTrailers() lower-cases names, trims values, and defaults to UNKNOWN", () => {
  const parsed = parseGrpcWebTrailers(new TextEncoder().encode("Grpc-Message:  a%2 b \r\nX-A: 1"));
  assert.equal(parsed.code, Status.UNKNOWN);
  assert.equal(parsed.message, "a%2 b");
  assert.equal(parsed.metadata.get("x-a"), "1");
  const bad = parseGrpcWebTrailers(new TextEncoder().encode("grpc-status: 99\r\n"));
  assert.equal(bad.code, Status.UNKNOWN);
});
