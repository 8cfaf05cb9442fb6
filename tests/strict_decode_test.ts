/**
 * Requests protobuf-go refuses are refused here too (issue 19): a proto3
 * string that is not UTF-8 and a string that runs past the end of the
 * message end INTERNAL ("cannot decode request"), as on a grpc-go server,
 * and the service serves on. Raw bytes from a grpc-js client over a real
 * socket, so the transport hands the codec what it would in production.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ROOT, startSvc } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;

Deno.test("invalid UTF-8 and truncated strings end INTERNAL; a good request is served", async () => {
  await using svc = await startSvc({ config: CONFIG });
  const raw = new grpc.Client(`127.0.0.1:${svc.port}`, grpc.credentials.createInsecure());
  const echo = (bytes: number[]) =>
    new Promise<{ code: number; details: string }>((resolve) => {
      raw.makeUnaryRequest(
        "/e2e.Test/Echo",
        (x: Uint8Array) => Buffer.from(x),
        (b: Uint8Array) => b,
        new Uint8Array(bytes),
        (error) =>
          resolve(error ? { code: error.code, details: error.details } : { code: 0, details: "" }),
      );
    });
  try {
    // EchoRequest.message = 1 (string).
    const invalid = await echo([0x0a, 0x02, 0xff, 0xfe]);
    assert.deepEqual(invalid, { code: 13, details: "cannot decode request as e2e.EchoRequest" });
    const truncated = await echo([0x0a, 0x05, 0x41]);
    assert.deepEqual(truncated, { code: 13, details: "cannot decode request as e2e.EchoRequest" });
    assert.equal((await echo([0x0a, 0x02, 0xc3, 0xa9])).code, 0, "é is served");
    const logged = svc.logs().filter((l) => l.msg === "request could not be decoded");
    assert.ok(logged.some((l) => /invalid UTF-8/.test(String(l.error))), JSON.stringify(logged));
  } finally {
    raw.close();
  }
});
