import assert from "node:assert/strict";
import { resolveConfig } from "./resolve.ts";
import { issuesOf, makeProject } from "./_testing.ts";

const YAML = `
tracing:
  enabled: true
  exporter:
    endpoint: http://yaml-collector:4318
    headers: { x-from: yaml }
    timeout: 3s
  sampler: always_on
  resource: { team: payments, service.name: from-yaml }
`;

Deno.test("tracing: the YAML alone, with defaults for what it leaves out", async () => {
  await using project = await makeProject();
  const { tracing } = resolveConfig(YAML, project.file, {});
  assert.equal(tracing.enabled, true);
  assert.equal(tracing.exporter.endpoint, "http://yaml-collector:4318");
  assert.equal(tracing.exporter.timeout, 3000);
  assert.equal(tracing.sampler, "always_on");
  assert.equal(tracing.ratio, 1);
  assert.deepEqual(tracing.batch, {
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    scheduleDelay: 5000,
  });
  assert.equal(tracing.builtins, false);
  assert.equal(resolveConfig("", project.file, {}).tracing.enabled, false);
});

Deno.test("tracing: OTEL_* variables win over the YAML, SVC_* over both", async () => {
  await using project = await makeProject();
  const { tracing } = resolveConfig(YAML, project.file, {
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://env-collector:4318/",
    OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=abc%20def, x-from=env",
    OTEL_EXPORTER_OTLP_TIMEOUT: "1500",
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: "0.25",
    OTEL_SERVICE_NAME: "checkout",
    OTEL_RESOURCE_ATTRIBUTES: "service.name=ignored,deployment.environment=prod",
    OTEL_BSP_MAX_QUEUE_SIZE: "100",
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "50",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    SVC_TRACING_BATCH_MAX_QUEUE_SIZE: "300",
  });
  // The generic endpoint is a base: the traces path is appended.
  assert.equal(tracing.exporter.endpoint, "http://env-collector:4318/v1/traces");
  assert.deepEqual(tracing.exporter.headers, { "x-from": "env", "x-api-key": "abc def" });
  assert.equal(tracing.exporter.timeout, 1500);
  assert.equal(tracing.sampler, "parentbased_traceidratio");
  assert.equal(tracing.ratio, 0.25);
  // OTEL_SERVICE_NAME wins over OTEL_RESOURCE_ATTRIBUTES' service.name, as the spec says.
  assert.deepEqual(tracing.resource, {
    team: "payments",
    "service.name": "checkout",
    "deployment.environment": "prod",
  });
  assert.equal(tracing.batch.maxQueueSize, 300);
  assert.equal(tracing.batch.maxExportBatchSize, 50);
  assert.equal(tracing.batch.scheduleDelay, 200);
});

Deno.test("tracing: the traces endpoint is used as it is and wins over the generic one", async () => {
  await using project = await makeProject();
  const { tracing } = resolveConfig(YAML, project.file, {
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://generic:4318",
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://vendor.example/api/traces",
  });
  assert.equal(tracing.exporter.endpoint, "https://vendor.example/api/traces");
});

Deno.test("tracing: OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none turn tracing off", async () => {
  await using project = await makeProject();
  assert.equal(
    resolveConfig(YAML, project.file, { OTEL_SDK_DISABLED: "true" }).tracing.enabled,
    false,
  );
  assert.equal(
    resolveConfig(YAML, project.file, { OTEL_TRACES_EXPORTER: "none" }).tracing.enabled,
    false,
  );
  assert.equal(resolveConfig(YAML, project.file, { OTEL_SDK_DISABLED: "" }).tracing.enabled, true);
});

Deno.test("tracing: bad values are reported against the variable or key that set them", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() =>
    resolveConfig(YAML + "  ratio: 2\n", project.file, {
      OTEL_TRACES_SAMPLER: "sometimes",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_TRACES_EXPORTER: "zipkin",
      OTEL_BSP_SCHEDULE_DELAY: "soon",
      OTEL_RESOURCE_ATTRIBUTES: "=novalue",
    })
  );
  const text = issues.map((i) => `${i.where}: ${i.message}`).join("\n");
  assert.match(text, /OTEL_TRACES_SAMPLER: .*parentbased_traceidratio/);
  assert.match(text, /OTEL_EXPORTER_OTLP_PROTOCOL: .*"http\/protobuf"/);
  assert.match(text, /OTEL_TRACES_EXPORTER: expected "otlp" or "none", got "zipkin"/);
  assert.match(text, /OTEL_BSP_SCHEDULE_DELAY: /);
  assert.match(text, /OTEL_RESOURCE_ATTRIBUTES: expected "key=value" pairs/);
  assert.match(text, /tracing\.ratio: .*0-1/);
});

Deno.test("tracing: the YAML endpoint must be an http(s) URL", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() =>
    resolveConfig("tracing:\n  exporter:\n    endpoint: collector:4318\n", project.file, {})
  );
  assert.equal(issues.length, 1);
  assert.equal(issues[0].where, "tracing.exporter.endpoint");
  assert.match(issues[0].message, /http:\/\/ or https:\/\/ URL/);
});
