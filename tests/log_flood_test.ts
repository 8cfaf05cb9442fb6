/**
 * A flood of bad calls is not a flood of log (issue 19): undecodable
 * requests and a handler that throws, 1,000 of each, against `svc run`.
 * Error lines are limited per method and reason, the next line written
 * counts what was left out, and a decode error never quotes more than a
 * bounded part of the request.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { grpcClient, ROOT, startSvc, unary } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);
const CALLS = 1_000;

/** 48 bytes: field 1's length is a varint that never ends. */
const UNDECODABLE = new Uint8Array([0x0a, ...new Array(47).fill(0x80)]);

Deno.test("1,000 undecodable requests and 1,000 handler throws write a bounded log, counting what they leave out", async () => {
  await using svc = await startSvc({
    config: CONFIG,
    env: { SVC_LOGGING_ACCESS_LOG: "false" },
  });
  const client = factory.makeClient("e2e.Test", svc.port);
  const raw = new grpc.Client(`127.0.0.1:${svc.port}`, grpc.credentials.createInsecure());
  const undecodable = () =>
    new Promise<grpc.ServiceError>((resolve) => {
      raw.makeUnaryRequest(
        "/e2e.Test/Echo",
        (x: Uint8Array) => Buffer.from(x),
        (b: Uint8Array) => b,
        UNDECODABLE,
        (error) => resolve(error!),
      );
    });
  try {
    const started = performance.now();
    const before = svc.stderr().length;
    for (let i = 0; i < CALLS; i += 25) {
      const batch = await Promise.all([
        ...Array.from({ length: 25 }, undecodable),
        ...Array.from(
          { length: 25 },
          () => unary(client, "fail", { kind: "plain" }).catch((e: grpc.ServiceError) => e),
        ),
      ]);
      for (const error of batch) assert.equal((error as grpc.ServiceError)?.code, 13);
    }
    const seconds = (performance.now() - started) / 1000;
    // One more of each after a second, to read the count of what was left out.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await undecodable();
    await unary(client, "fail", { kind: "plain" }).catch(() => {});
    await svc.waitForLog((l) => l.msg === "request could not be decoded" && !!l.suppressed);
    await svc.waitForLog((l) => l.msg === "call failed" && !!l.suppressed);

    const errors = svc.logs().filter((l) => l.level === "error");
    const decode = errors.filter((l) => l.msg === "request could not be decoded");
    const failed = errors.filter((l) => l.msg === "call failed");
    const allowed = 10 + Math.ceil(seconds + 1.1) + 1; // burst, 1 a second, the last one
    assert.ok(decode.length <= allowed, `${decode.length} decode lines in ${seconds.toFixed(1)} s`);
    assert.ok(
      failed.length <= allowed,
      `${failed.length} failure lines in ${seconds.toFixed(1)} s`,
    );
    const left = (lines: Record<string, unknown>[]) =>
      lines.reduce((n, l) => n + Number(l.suppressed ?? 0), 0);
    assert.equal(left(decode) + decode.length, CALLS + 1, "every decode failure logged or counted");
    assert.equal(left(failed) + failed.length, CALLS + 1, "every throw logged or counted");
    for (const line of decode) {
      assert.equal(line.type, "e2e.EchoRequest");
      assert.ok(String(line.error).length <= 201, `bounded detail: ${line.error}`);
      assert.ok(!("stack" in Object(line.error)), "no decoder stack");
    }
    const bytes = svc.stderr().length - before;
    console.log(
      `${2 * CALLS + 2} bad calls in ${seconds.toFixed(1)} s: ${bytes} bytes of log, ` +
        `${(bytes / (2 * CALLS)).toFixed(1)} per call (${decode.length} + ${failed.length} lines)`,
    );
    assert.ok(bytes / (2 * CALLS) < 32, `${bytes} bytes of log for ${2 * CALLS} bad calls`);
    // And the service still serves.
    assert.equal(
      (await unary<{ message: string }>(client, "echo", { message: "ok" })).message,
      "ok",
    );
  } finally {
    raw.close();
    client.close();
  }
});
