/**
 * End-to-end: a real `svc run` process on port 0, called by a real grpc-js
 * client over TCP, for all four call kinds, errors, deadlines, cancellation,
 * metadata and message size limits.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { grpcClient, readAll, ROOT, startSvc, type SvcProcess, unary } from "./_harness.ts";
import { pythonGrpcMissing, runPython } from "./_python.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const PROTO = `${ROOT}/tests/fixtures/e2e/proto/e2e.proto`;
const Status = grpc.status;
const pythonMissing = await pythonGrpcMissing();
const nghttpAvailable = await new Deno.Command("nghttp", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((r) => r.success, () => false);

type Client = ReturnType<ReturnType<typeof grpcClient>["makeClient"]>;

async function withServer(fn: (svc: SvcProcess, client: Client) => Promise<void>) {
  await using svc = await startSvc({ config: CONFIG, env: { SVC_ADMIN_ENABLED: "false" } });
  const client = grpcClient([PROTO]).makeClient("e2e.Test", svc.port);
  try {
    await fn(svc, client);
  } finally {
    client.close();
  }
}

function callError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => assert.fail("expected the call to fail"),
    (error: grpc.ServiceError) => error,
  );
}

Deno.test("svc run serves all four call kinds, errors and metadata over a real socket", async (t) => {
  await withServer(async (svc, client) => {
    await t.step("unary echoes the request, headers, trailers and request metadata", async () => {
      const md = new grpc.Metadata();
      md.set("x-request-tag", "abc");
      let headers: grpc.Metadata | undefined;
      let trailers: grpc.Metadata | undefined;
      const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const call = client.echo(
          { message: "hi", id: "9007199254740993" },
          md,
          (err: Error | null, res: Record<string, unknown>) => err ? reject(err) : resolve(res),
        );
        call.on("metadata", (m: grpc.Metadata) => headers = m);
        call.on("status", (s: grpc.StatusObject) => trailers = s.metadata);
      });
      assert.equal(reply.message, "hi");
      assert.equal(reply.id, "9007199254740993", "int64 survives as a decimal string");
      assert.equal((reply.metadata as Record<string, string>)["x-request-tag"], "abc");
      assert.match(String(reply.peer), /^127\.0\.0\.1:\d+$/);
      assert.equal(reply.deadlineInMs, -1, "no deadline set by the client");
      assert.deepEqual(headers?.get("x-echo-header"), ["h"]);
      assert.deepEqual(trailers?.get("x-echo-trailer"), ["t"]);
      assert.deepEqual([...(trailers?.get("x-echo-trailer-bin")[0] as Uint8Array)], [1, 2, 3]);
    });

    await t.step("server streaming sends every message in order", async () => {
      const replies = await readAll<{ id: string }>(client.count({ count: 50, size: 10 }));
      assert.deepEqual(replies.map((r) => Number(r.id)), [...Array(50).keys()]);
    });

    await t.step("an RpcError mid-stream ends the stream with its status", async () => {
      const received: unknown[] = [];
      const error = await new Promise<grpc.ServiceError>((resolve) => {
        const call = client.count({ count: 10, failAfter: 3 });
        call.on("data", (m: unknown) => received.push(m));
        call.on("error", resolve);
      });
      assert.equal(error.code, Status.ABORTED);
      assert.equal(error.details, "stopped after 3");
      // grpc-js's client on Deno can drop messages it received just before
      // an error status; Python grpcio checks the exact count below.
      assert.ok(received.length <= 3);
    });

    await t.step({
      name: "messages sent before an error status all arrive (Python grpcio, 50 runs)",
      ignore: pythonMissing !== null,
      fn: async () => {
        const [result] = await runPython("stream_error_client.py", [String(svc.port), "50"]);
        assert.deepEqual(result, { runs: 50, bad: [] });
      },
    });

    await t.step("client streaming sums every request", async () => {
      const reply = await new Promise<{ value: string }>((resolve, reject) => {
        const call = client.sum((err: Error | null, res: { value: string }) =>
          err ? reject(err) : resolve(res)
        );
        for (let i = 1; i <= 100; i++) call.write({ value: String(i) });
        call.end();
      });
      assert.equal(reply.value, "5050");
    });

    await t.step("bidi streaming answers each message", async () => {
      const call = client.chat();
      const replies = readAll<{ message: string }>(call);
      for (const word of ["a", "b", "c"]) call.write({ message: word });
      call.end();
      assert.deepEqual((await replies).map((r) => r.message), ["echo: a", "echo: b", "echo: c"]);
    });

    await t.step("a plain Error becomes INTERNAL with no detail or stack sent", async () => {
      const error = await callError(unary(client, "fail", { kind: "plain" }));
      assert.equal(error.code, Status.INTERNAL);
      assert.equal(error.details, "internal error");
      assert.doesNotMatch(JSON.stringify(error.metadata.toJSON()), /hunter2|at /);
      const logged = await svc.waitForLog((l) => l.msg === "call failed");
      assert.match(JSON.stringify(logged), /hunter2/, "the cause is logged server-side");
    });

    await t.step("an RpcError sends its code, message and trailers", async () => {
      const error = await callError(
        unary(client, "fail", { kind: "rpc", code: Status.PERMISSION_DENIED, message: "no entry" }),
      );
      assert.equal(error.code, Status.PERMISSION_DENIED);
      assert.equal(error.details, "no entry");
      assert.deepEqual(error.metadata.get("x-error-detail"), ["why"]);
    });

    await t.step(
      "a return value that does not fit is INTERNAL and the field is logged",
      async () => {
        const error = await callError(unary(client, "badReturn", {}));
        assert.equal(error.code, Status.INTERNAL);
        const logged = await svc.waitForLog((l) => l.msg === "response does not fit its type");
        assert.equal(logged.field, "message");
      },
    );

    await t.step("a proto method without a handler answers UNIMPLEMENTED", async () => {
      const error = await callError(unary(client, "notImplemented", {}));
      assert.equal(error.code, Status.UNIMPLEMENTED);
    });

    await t.step(
      "the handler sees the client's deadline, and its signal aborts when it passes",
      async () => {
        const reply = await unary<{ deadlineInMs: number }>(client, "echo", {}, {
          timeoutMs: 5000,
        });
        assert.ok(reply.deadlineInMs > 3000 && reply.deadlineInMs <= 5000, `${reply.deadlineInMs}`);
        const error = await callError(
          unary(client, "sleep", { ms: 10_000, tag: "deadline" }, { timeoutMs: 200 }),
        );
        assert.equal(error.code, Status.DEADLINE_EXCEEDED);
        await svc.waitForLog((l) => l.msg === "sleep aborted" && l.tag === "deadline");
      },
    );

    await t.step("a client cancel aborts the handler's signal", async () => {
      const call = client.sleep({ ms: 10_000, tag: "cancel" }, (_err: Error | null) => {});
      await new Promise((r) => setTimeout(r, 200));
      call.cancel();
      await svc.waitForLog((l) => l.msg === "sleep aborted" && l.tag === "cancel");
    });

    await t.step("requests over maxReceiveMessageBytes end RESOURCE_EXHAUSTED", async () => {
      const error = await callError(unary(client, "echo", { message: "x".repeat(70_000) }));
      assert.equal(error.code, Status.RESOURCE_EXHAUSTED);
    });

    await t.step("responses over maxSendMessageBytes end RESOURCE_EXHAUSTED", async () => {
      const error = await callError(unary(client, "big", { size: 70_000 }));
      assert.equal(error.code, Status.RESOURCE_EXHAUSTED);
      const ok = await unary<{ data: Uint8Array }>(client, "big", { size: 60_000 });
      assert.equal(ok.data.length, 60_000);
    });

    await t.step("an unknown method path answers UNIMPLEMENTED", async () => {
      const raw = new grpc.Client(`127.0.0.1:${svc.port}`, grpc.credentials.createInsecure());
      try {
        const error = await callError(
          new Promise((resolve, reject) => {
            raw.makeUnaryRequest(
              "/e2e.Test/Nope",
              (x: Uint8Array) => Buffer.from(x),
              (b: Uint8Array) => b,
              new Uint8Array(),
              (err, res) => err ? reject(err) : resolve(res),
            );
          }),
        );
        assert.equal(error.code, Status.UNIMPLEMENTED);
      } finally {
        raw.close();
      }
    });

    await t.step({
      name: "a non-gRPC content-type gets HTTP 415 (nghttp)",
      ignore: !nghttpAvailable,
      fn: async () => {
        const { stdout } = await new Deno.Command("nghttp", {
          args: [
            "-v",
            "-H",
            ":method: POST",
            "-H",
            "content-type: application/json",
            `http://127.0.0.1:${svc.port}/e2e.Test/Echo`,
          ],
          stdout: "piped",
          stderr: "null",
        }).output();
        assert.match(new TextDecoder().decode(stdout), /:status: 415/);
      },
    });

    await t.step("after all of that the process still serves", async () => {
      const reply = await unary<{ message: string }>(client, "echo", { message: "still here" });
      assert.equal(reply.message, "still here");
      const accessLines = svc.logs().filter((l) => l.msg === "call");
      assert.ok(accessLines.some((l) => l.code === "Internal" && l.method === "/e2e.Test/Fail"));
    });
  });
});
