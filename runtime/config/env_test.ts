import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "./resolve.ts";
import { issuesOf, makeProject } from "./_testing.ts";

Deno.test("resolveConfig() lets env vars override nested keys over the file", async () => {
  await using project = await makeProject();
  const config = resolveConfig(
    "server:\n  port: 1234\n  keepalive:\n    time: 1h\n",
    project.file,
    {
      SVC_SERVER_PORT: "0",
      SVC_SERVER_KEEPALIVE_TIME: "5s",
      SVC_SERVER_MAX_RECEIVE_MESSAGE_BYTES: "1024",
      SVC_LOGGING_LEVEL: "debug",
    },
  );
  assert.equal(config.server.port, 0);
  assert.equal(config.server.keepalive.time, 5000);
  assert.equal(config.server.maxReceiveMessageBytes, 1024);
  assert.equal(config.logging.level, "debug");
});

Deno.test("resolveConfig() parses env booleans", async () => {
  await using project = await makeProject();
  const env = {
    SVC_ADMIN_ENABLED: "false",
    SVC_LOGGING_ACCESS_LOG: "0",
    SVC_HEALTH_ENABLED: "TRUE",
  };
  const config = resolveConfig("admin:\n  enabled: true\n", project.file, env);
  assert.equal(config.admin.enabled, false);
  assert.equal(config.logging.accessLog, false);
  assert.equal(config.health.enabled, true);
});

Deno.test("resolveConfig() reads env lists as comma-separated or JSON", async () => {
  await using project = await makeProject({ "more/": "" });
  const comma = resolveConfig("", project.file, {
    SVC_REGISTRY_ENDPOINTS: "http://a:1, http://b:2",
  });
  assert.deepEqual(comma.registry.endpoints, ["http://a:1", "http://b:2"]);
  const json = resolveConfig("", project.file, { SVC_PROTOS_FILES: `["proto", "more"]` });
  assert.deepEqual(json.protos.files, [join(project.dir, "proto"), join(project.dir, "more")]);
  const empty = resolveConfig("", project.file, { SVC_PROTOS_INCLUDE_PATHS: "" });
  assert.deepEqual(empty.protos.includePaths, []);
});

Deno.test("resolveConfig() takes maps from env only as whole JSON values", async () => {
  await using project = await makeProject();
  const config = resolveConfig("registry:\n  metadata: {zone: b, rack: r1}\n", project.file, {
    SVC_REGISTRY_METADATA: `{"zone":"a"}`,
    SVC_RATE_LIMIT_PER_METHOD: `{"/pkg.Svc/Call": {"rate": 5}}`,
    SVC_REGISTRY_METADATA_ZONE: "ignored",
  });
  assert.deepEqual(config.registry.metadata, { zone: "a" });
  assert.deepEqual(config.rateLimit.perMethod, { "/pkg.Svc/Call": { rate: 5, burst: 5 } });
});

Deno.test("resolveConfig() creates a nullable section when env sets one of its keys", async () => {
  await using project = await makeProject({ "tls/cert.pem": "c", "tls/key.pem": "k" });
  const config = resolveConfig("", project.file, {
    SVC_SERVER_TLS_CERT: "tls/cert.pem",
    SVC_SERVER_TLS_KEY: "tls/key.pem",
    SVC_RATE_LIMIT_PER_KEY_KEY: "header:X-Api-Key",
    SVC_RATE_LIMIT_PER_KEY_RATE: "10",
  });
  assert.deepEqual(config.server.tls, {
    cert: join(project.dir, "tls/cert.pem"),
    key: join(project.dir, "tls/key.pem"),
    ca: null,
    clientAuth: "none",
  });
  assert.deepEqual(config.rateLimit.perKey, {
    key: "header:x-api-key",
    rate: 10,
    burst: 10,
    maxKeys: 10000,
  });
  const cleared = resolveConfig("rateLimit:\n  global: {rate: 1}\n", project.file, {
    SVC_RATE_LIMIT_GLOBAL: "null",
  });
  assert.equal(cleared.rateLimit.global, null);
});

Deno.test("resolveConfig() ignores SVC_ variables that match no key", async () => {
  await using project = await makeProject();
  const config = resolveConfig("", project.file, { SVC_MY_OWN_THING: "x", SVC_SERVER: "y" });
  assert.equal(config.server.port, 50051);
});

Deno.test("resolveConfig() reports a bad env value against the variable's name", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() =>
    resolveConfig("", project.file, {
      SVC_SERVER_PORT: "http",
      SVC_REGISTRY_METADATA: "{zone: a}",
      SVC_SERVER_TLS_KEY: "key.pem",
      SVC_SHUTDOWN_GRACE_PERIOD: "10",
    })
  );
  assert.deepEqual(issues.map((i) => [i.where, i.line, i.message]), [
    [
      "SVC_REGISTRY_METADATA",
      undefined,
      `cannot parse "{zone: a}" as JSON: ${_jsonError("{zone: a}")}`,
    ],
    ["SVC_SERVER_PORT", undefined, `expected a port number 0-65535, got "http"`],
    ["SVC_SERVER_TLS_KEY", undefined, `missing required key "cert"`],
    ["SVC_SERVER_TLS_KEY", undefined, `file not found: "${join(project.dir, "key.pem")}"`],
    [
      "SVC_SHUTDOWN_GRACE_PERIOD",
      undefined,
      `cannot parse duration "10": it has no unit (write "10s" or "10ms")`,
    ],
  ]);
});

function _jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  return "";
}
