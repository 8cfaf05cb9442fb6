/**
 * /metrics of a real process after a known mix of calls: exact counters,
 * go-grpc-prometheus names and labels, and promtool's verdict.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { parseExposition, promtoolCheck, valueOf } from "../runtime/metrics/_exposition.ts";
import { grpcClient, readAll, ROOT, startSvc, unary } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);

Deno.test("/metrics counts exactly what a client sent and received, and passes promtool", async () => {
  await using svc = await startSvc({ config: CONFIG, env: { SVC_ADMIN_ENABLED: "true" } });
  assert.ok(svc.adminPort, "admin is on");
  const client = factory.makeClient("e2e.Test", svc.port);
  try {
    for (let i = 0; i < 3; i++) await unary(client, "echo", { message: `m${i}` });
    await assert.rejects(unary(client, "fail", { kind: "plain" }));
    await assert.rejects(
      unary(client, "fail", { kind: "rpc", code: grpc.status.PERMISSION_DENIED }),
    );
    await assert.rejects(unary(client, "notImplemented", {}));
    assert.equal((await readAll(client.count({ count: 5 }))).length, 5);
    await new Promise<void>((resolve, reject) => {
      const call = client.sum((err: Error | null) => err ? reject(err) : resolve());
      for (let i = 0; i < 4; i++) call.write({ value: "1" });
      call.end();
    });
    const chat = client.chat();
    const chatReplies = readAll(chat);
    for (let i = 0; i < 3; i++) chat.write({ message: "x" });
    chat.end();
    assert.equal((await chatReplies).length, 3);
  } finally {
    client.close();
  }

  const response = await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await response.text();
  const samples = parseExposition(text);
  const labels = (type: string, method: string) => ({
    grpc_type: type,
    grpc_service: "e2e.Test",
    grpc_method: method,
  });
  const handled = (type: string, method: string, code: string) => ({
    ...labels(type, method),
    grpc_code: code,
  });
  const expect = (name: string, l: Record<string, string>, value: number) =>
    assert.equal(valueOf(samples, name, l), value, `${name}${JSON.stringify(l)}`);

  expect("grpc_server_started_total", labels("unary", "Echo"), 3);
  expect("grpc_server_handled_total", handled("unary", "Echo", "OK"), 3);
  expect("grpc_server_msg_received_total", labels("unary", "Echo"), 3);
  expect("grpc_server_msg_sent_total", labels("unary", "Echo"), 3);
  expect("grpc_server_started_total", labels("unary", "Fail"), 2);
  expect("grpc_server_handled_total", handled("unary", "Fail", "Internal"), 1);
  expect("grpc_server_handled_total", handled("unary", "Fail", "PermissionDenied"), 1);
  expect("grpc_server_handled_total", handled("unary", "Fail", "OK"), 0);
  expect("grpc_server_msg_sent_total", labels("unary", "Fail"), 0);
  expect("grpc_server_handled_total", handled("unary", "NotImplemented", "Unimplemented"), 1);
  expect("grpc_server_msg_received_total", labels("server_stream", "Count"), 1);
  expect("grpc_server_msg_sent_total", labels("server_stream", "Count"), 5);
  expect("grpc_server_handled_total", handled("server_stream", "Count", "OK"), 1);
  expect("grpc_server_msg_received_total", labels("client_stream", "Sum"), 4);
  expect("grpc_server_msg_sent_total", labels("client_stream", "Sum"), 1);
  expect("grpc_server_msg_received_total", labels("bidi_stream", "Chat"), 3);
  expect("grpc_server_msg_sent_total", labels("bidi_stream", "Chat"), 3);
  expect("grpc_server_handled_total", handled("bidi_stream", "Chat", "OK"), 1);
  expect("grpc_server_handling_seconds_count", labels("unary", "Echo"), 3);
  expect("grpc_server_started_total", labels("unary", "BadReturn"), 0);
  expect("svc_server_in_flight_calls", {}, 0);

  const verdict = await promtoolCheck(text);
  assert.equal(verdict.code, 0, `promtool check metrics:\n${verdict.output}`);
});

Deno.test("a call the transport ended (deadline, client cancel) counts and logs the code the client got, whatever the handler did after", async () => {
  await using svc = await startSvc({ config: CONFIG, env: { SVC_ADMIN_ENABLED: "true" } });
  const client = factory.makeClient("e2e.Test", svc.port);
  try {
    // A handler that ignores ctx.signal and returns OK after the client's deadline.
    const late = await unary(client, "sleep", { ms: 300, tag: "deaf" }, { timeoutMs: 100 })
      .catch((e: grpc.ServiceError) => e) as grpc.ServiceError;
    assert.equal(late.code, grpc.status.DEADLINE_EXCEEDED);
    // The same handler, the client cancels.
    const cancelled = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.sleep({ ms: 300, tag: "deaf" }, (e: grpc.ServiceError) => resolve(e));
      setTimeout(() => call.cancel(), 100);
    });
    assert.equal(cancelled.code, grpc.status.CANCELLED);
    await svc.waitForLog((l) => l.msg === "call" && l.code === "Canceled");
    await svc.waitForLog((l) => l.msg === "call" && l.code === "DeadlineExceeded");
    const samples = parseExposition(
      await (await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`)).text(),
    );
    const handled = (code: string) =>
      valueOf(samples, "grpc_server_handled_total", {
        grpc_type: "unary",
        grpc_service: "e2e.Test",
        grpc_method: "Sleep",
        grpc_code: code,
      });
    assert.equal(handled("DeadlineExceeded"), 1);
    assert.equal(handled("Canceled"), 1);
    assert.equal(handled("OK") ?? 0, 0);
    assert.ok(
      !svc.logs().some((l) =>
        l.msg === "call" && l.method === "/e2e.Test/Sleep" && l.code === "OK"
      ),
    );
  } finally {
    client.close();
  }
});

Deno.test({
  name: "a response over maxSendMessageBytes counts and logs RESOURCE_EXHAUSTED, as the client got",
  async fn() {
    await using svc = await startSvc({ config: CONFIG, env: { SVC_ADMIN_ENABLED: "true" } });
    const client = factory.makeClient("e2e.Test", svc.port);
    try {
      // The e2e config allows 64 KiB responses.
      const big = await unary(client, "big", { size: 100_000 })
        .catch((e: grpc.ServiceError) => e) as grpc.ServiceError;
      assert.equal(big.code, grpc.status.RESOURCE_EXHAUSTED);
      const stream = client.count({ count: 3, size: 100_000 });
      const streamed = await new Promise<grpc.ServiceError>((resolve) => {
        stream.on("data", () => {});
        stream.on("error", resolve);
      });
      assert.equal(streamed.code, grpc.status.RESOURCE_EXHAUSTED);
      await svc.waitForLog((l) => l.msg === "call" && l.method === "/e2e.Test/Count");
      const samples = parseExposition(
        await (await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`)).text(),
      );
      for (const [method, type] of [["Big", "unary"], ["Count", "server_stream"]]) {
        const handled = (code: string) =>
          valueOf(samples, "grpc_server_handled_total", {
            grpc_type: type,
            grpc_service: "e2e.Test",
            grpc_method: method,
            grpc_code: code,
          });
        assert.equal(handled("ResourceExhausted"), 1, method);
        assert.equal(handled("OK") ?? 0, 0, method);
        assert.equal(handled("Canceled") ?? 0, 0, method);
        const line = svc.logs().find((l) => l.msg === "call" && l.method === `/e2e.Test/${method}`);
        assert.equal(line?.code, "ResourceExhausted", JSON.stringify(line));
      }
    } finally {
      client.close();
    }
  },
});

Deno.test("whatever a handler throws (plain object, circular, own cause, throwing getter) ends INTERNAL at once; in-flight back to 0", async () => {
  await using svc = await startSvc({ config: CONFIG, env: { SVC_ADMIN_ENABLED: "true" } });
  const client = factory.makeClient("e2e.Test", svc.port);
  const kinds = ["object", "circular", "own-cause", "getter", "string", "null"];
  try {
    for (const kind of kinds) {
      const started = performance.now();
      const error = await unary(client, "fail", { kind }, { timeoutMs: 3_000 })
        .catch((e: grpc.ServiceError) => e) as grpc.ServiceError;
      assert.equal(error.code, grpc.status.INTERNAL, `${kind}: ${error.code} ${error.details}`);
      assert.equal(error.details, "internal error", kind);
      assert.ok(
        performance.now() - started < 1_000,
        `${kind} took ${performance.now() - started} ms`,
      );
    }
    const samples = parseExposition(
      await (await fetch(`http://127.0.0.1:${svc.adminPort}/metrics`)).text(),
    );
    assert.equal(valueOf(samples, "svc_server_in_flight_calls"), 0);
    assert.equal(
      valueOf(samples, "grpc_server_handled_total", {
        grpc_type: "unary",
        grpc_service: "e2e.Test",
        grpc_method: "Fail",
        grpc_code: "Internal",
      }),
      kinds.length,
    );
  } finally {
    client.close();
  }
});
