/**
 * The client side of /metrics, end to end: a real caller process drives
 * every call kind against a real backend process, and its /metrics must
 * count exactly those calls with go-grpc-prometheus's client names, pass
 * promtool, and count a call that failed after retries once, with the code
 * its handler got.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { parseExposition, promtoolCheck, valueOf } from "../runtime/metrics/_exposition.ts";
import { grpcClient, ROOT, startSvc, unary } from "./_harness.ts";

const greeterClients = grpcClient([`${ROOT}/proto/helloworld.proto`]);

Deno.test("/metrics counts every outgoing call once, per kind and code, and passes promtool", async () => {
  const backend = await startSvc({
    config: "examples/discovery/backend.yaml",
    env: { SVC_REGISTRY_TYPE: "none", SVC_ADMIN_ENABLED: "false" },
  });
  await using caller = await startSvc({
    config: "tests/fixtures/client_middleware/caller.yaml",
    env: { BACKEND_ADDR: `127.0.0.1:${backend.port}`, SVC_ADMIN_ENABLED: "true" },
  });
  assert.ok(caller.adminPort, "admin is on");
  const client = greeterClients.makeClient("helloworld.Greeter", caller.port);
  try {
    // Each round: Echo (unary), Count of 3 (server stream), Join of 2 (client stream), Chat of 2 (bidi).
    for (let i = 0; i < 3; i++) await unary(client, "sayHello", { name: "x" });
    await backend.stop();
    // The backend is gone: the first call, Echo, fails (retried on the dead instance, counted once).
    await assert.rejects(unary(client, "sayHello", { name: "x" }), {
      code: grpc.status.UNAVAILABLE,
    });
  } finally {
    client.close();
    await backend.stop();
  }

  const text = await (await fetch(`http://127.0.0.1:${caller.adminPort}/metrics`)).text();
  const samples = parseExposition(text);
  const labels = (type: string, method: string) => ({
    grpc_type: type,
    grpc_service: "demo.Backend",
    grpc_method: method,
  });
  const expect = (name: string, l: Record<string, string>, value: number) =>
    assert.equal(valueOf(samples, name, l), value, `${name}${JSON.stringify(l)}`);
  const kinds = [
    ["unary", "Echo", 1, 1],
    ["server_stream", "Count", 1, 3],
    ["client_stream", "Join", 2, 1],
    ["bidi_stream", "Chat", 2, 2],
  ] as const;
  for (const [type, method, sent, received] of kinds) {
    const failed = method === "Echo" ? 1 : 0;
    expect("grpc_client_started_total", labels(type, method), 3 + failed);
    expect("grpc_client_handled_total", { ...labels(type, method), grpc_code: "OK" }, 3);
    expect(
      "grpc_client_handled_total",
      { ...labels(type, method), grpc_code: "Unavailable" },
      failed,
    );
    // go-grpc-prometheus counts a unary request as sent even when the call fails.
    expect("grpc_client_msg_sent_total", labels(type, method), 3 * sent + failed);
    expect("grpc_client_msg_received_total", labels(type, method), 3 * received);
    expect("grpc_client_handling_seconds_count", labels(type, method), 3 + failed);
  }
  // Echo is NO_SIDE_EFFECTS, so it got the default retry policy: more attempts than calls.
  const dependency = { grpc_service: "demo.Backend" };
  assert.ok(valueOf(samples, "svc_client_retries_total", dependency)! >= 1, "Echo was retried");
  expect("svc_client_instances", dependency, 1);
  expect("svc_client_ejected_instances", dependency, 0);
  expect("svc_client_breaker_rejections_total", dependency, 0);
  assert.equal(
    samples.filter((s) =>
      s.name.startsWith("grpc_server_") && s.labels.grpc_service === "demo.Backend"
    )
      .length,
    0,
    "the caller serves no demo.Backend series",
  );

  const verdict = await promtoolCheck(text);
  assert.equal(verdict.code, 0, `promtool check metrics:\n${verdict.output}`);
});
