import assert from "node:assert/strict";
import { resolveConfig } from "./resolve.ts";
import { issuesOf, makeProject } from "./_testing.ts";

Deno.test("resolveConfig() defaults to the native transport; grpc-js from the file or the env", async () => {
  await using project = await makeProject();
  assert.equal(resolveConfig("", project.file).server.transport, "native");
  const fromFile = resolveConfig("server:\n  transport: grpc-js\n", project.file);
  assert.equal(fromFile.server.transport, "grpc-js");
  const fromEnv = resolveConfig("server:\n  transport: native\n", project.file, {
    SVC_SERVER_TRANSPORT: "grpc-js",
  });
  assert.equal(fromEnv.server.transport, "grpc-js");
  const issues = issuesOf(() =>
    resolveConfig("", project.file, { SVC_SERVER_TRANSPORT: "nghttp2" })
  );
  assert.deepEqual(issues.map((i) => [i.where, i.message]), [
    ["SVC_SERVER_TRANSPORT", `expected one of "native", "grpc-js", got "nghttp2"`],
  ]);
});

Deno.test("resolveConfig() requires a CA for clientAuth require", async () => {
  await using project = await makeProject({ "c.pem": "", "k.pem": "" });
  const issues = issuesOf(() =>
    resolveConfig("server:\n  tls: {cert: c.pem, key: k.pem, clientAuth: require}\n", project.file)
  );
  assert.deepEqual(issues.map((i) => [i.where, i.message]), [
    [
      "server.tls.clientAuth",
      `clientAuth "require" needs "ca", the CA bundle that signs client certificates`,
    ],
  ]);
});

Deno.test("resolveConfig() requires etcd endpoints and whole client certificates", async () => {
  await using project = await makeProject({ "c.pem": "" });
  const issues = issuesOf(() =>
    resolveConfig("registry:\n  type: etcd\n  endpoints: []\n  tls: {cert: c.pem}\n", project.file)
  );
  assert.deepEqual(issues.map((i) => [i.where, i.line, i.message]), [
    ["registry.endpoints", 3, `registry type "etcd" needs at least one endpoint`],
    ["registry.tls", 4, `"cert" and "key" must be given together`],
  ]);
  const fromEnv = issuesOf(() =>
    resolveConfig("registry:\n  type: etcd\n", project.file, { SVC_REGISTRY_ENDPOINTS: "" })
  );
  assert.deepEqual(fromEnv.map((i) => [i.where, i.line]), [["SVC_REGISTRY_ENDPOINTS", undefined]]);
});

Deno.test("resolveConfig() rejects admin and gRPC on the same port", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() => resolveConfig("server: {port: 9090}\n", project.file));
  assert.deepEqual(issues.map((i) => [i.where, i.message]), [
    ["admin.port", "port 9090 is also server.port; pick another"],
  ]);
  const config = resolveConfig("server: {port: 9090}\nadmin: {enabled: false}\n", project.file);
  assert.equal(config.server.port, 9090);
});

Deno.test("resolveConfig() rejects a memory budget too small for requests of the largest size", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() =>
    resolveConfig(
      "server:\n  maxReceiveMessageBytes: 4194304\n  memoryBudgetBytes: 1048576\n",
      project.file,
    )
  );
  assert.deepEqual(issues.map((i) => [i.where, i.line, i.message]), [
    [
      "server.memoryBudgetBytes",
      3,
      "1048576 cannot hold a few requests of server.maxReceiveMessageBytes (4194304); use 0 to derive it, or at least 16777216",
    ],
  ]);
  const derived = resolveConfig("server: {memoryBudgetBytes: 0}\n", project.file);
  assert.equal(derived.server.memoryBudgetBytes, 0);
  const enough = resolveConfig("server: {memoryBudgetBytes: 16777216}\n", project.file);
  assert.equal(enough.server.memoryBudgetBytes, 16 * 2 ** 20);
});

Deno.test("resolveConfig() rejects a connection window that cannot hold a message of the largest size", async () => {
  await using project = await makeProject();
  const yaml = "server:\n  maxReceiveMessageBytes: 33554432\n";
  const issues = issuesOf(() => resolveConfig(yaml, project.file));
  assert.deepEqual(issues.map((i) => [i.where, i.message]), [
    [
      "server.http2.connectionWindowBytes",
      "16777216 cannot hold one message of server.maxReceiveMessageBytes (33554432); raise it to at least 33554437",
    ],
  ]);
  // grpc-js has its own flow control; the native window is not used there.
  assert.equal(
    resolveConfig(yaml + "  transport: grpc-js\n", project.file).server.transport,
    "grpc-js",
  );
  const raised = yaml + "  http2: {connectionWindowBytes: 33554437}\n";
  assert.equal(resolveConfig(raised, project.file).server.http2.connectionWindowBytes, 33554437);
});

Deno.test("resolveConfig() rejects an overload interval not longer than its target", async () => {
  await using project = await makeProject();
  const yaml = "overload:\n  enabled: true\n  targetDelay: 50ms\n  interval: 50ms\n";
  const issues = issuesOf(() => resolveConfig(yaml, project.file));
  assert.deepEqual(issues.map((i) => [i.where, i.message]), [
    ["overload.interval", "50ms must be longer than overload.targetDelay (50ms)"],
  ]);
  const fine = resolveConfig(yaml.replace("interval: 50ms", "interval: 200ms"), project.file);
  assert.deepEqual(fine.overload, { enabled: true, targetDelay: 50, interval: 200 });
});
