import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "./resolve.ts";
import { issuesOf, makeProject } from "./_testing.ts";

Deno.test("resolveConfig() fills every default for an empty file", async () => {
  await using project = await makeProject();
  const config = resolveConfig("", project.file);
  assert.deepEqual(config, {
    file: project.file,
    service: { name: "svc", version: "0.0.0" },
    server: {
      host: "0.0.0.0",
      port: 50051,
      transport: "native",
      tls: null,
      maxReceiveMessageBytes: 4194304,
      maxDecodedMessageBytes: 67108864,
      memoryBudgetBytes: 0,
      memoryLimitBytes: 0,
      reclaimIdleMemory: true,
      yieldHelperThreads: true,
      maxSendMessageBytes: 4194304,
      maxConcurrentStreams: 1000,
      maxSessionMemoryMb: 64,
      keepalive: {
        time: 7_200_000,
        timeout: 20_000,
        maxConnectionIdle: 1_800_000,
        maxConnectionAge: 7_200_000,
        maxConnectionAgeGrace: 30_000,
      },
      http2: {
        maxHeaderListBytes: 16384,
        initialWindowBytes: 1_048_576,
        connectionWindowBytes: 16_777_216,
        maxFrameBytes: 16384,
        resetRate: 100,
        resetBurst: 1000,
        controlFrameRate: 1000,
        controlFrameBurst: 10_000,
        prefaceTimeout: 10_000,
        maxOutputBytes: 4_194_304,
      },
      web: {
        enabled: false,
        maxHeadBytes: 16384,
        maxHeaderCount: 100,
        headTimeout: 10_000,
        bodyIdleTimeout: 30_000,
        keepAliveIdle: 60_000,
        cors: {
          allowedOrigins: [],
          allowCredentials: false,
          allowedHeaders: [],
          exposedHeaders: [],
          maxAge: 7_200_000,
        },
      },
      compression: "identity",
      workers: 1,
    },
    protos: { files: [join(project.dir, "proto")], includePaths: [] },
    handlers: join(project.dir, "handlers"),
    middleware: [],
    clientMiddleware: [],
    dependencies: {},
    admin: { enabled: true, host: "0.0.0.0", port: 9090 },
    health: { enabled: true },
    reflection: { enabled: true },
    registry: {
      type: "none",
      endpoints: ["http://127.0.0.1:2379"],
      prefix: "services",
      ttl: 10_000,
      advertise: "",
      metadata: {},
      auth: null,
      tls: null,
    },
    rateLimit: {
      global: null,
      perMethod: {},
      perKey: null,
      maxConcurrent: { global: 0, perMethod: {} },
    },
    overload: { enabled: false, targetDelay: 10, interval: 100 },
    tracing: {
      enabled: false,
      exporter: {
        protocol: "http/protobuf",
        endpoint: "http://localhost:4318",
        headers: {},
        timeout: 10_000,
      },
      sampler: "parentbased_traceidratio",
      ratio: 1,
      resource: {},
      batch: { maxQueueSize: 2048, maxExportBatchSize: 512, scheduleDelay: 5000 },
      builtins: false,
    },
    shutdown: { drainDelay: 5000, gracePeriod: 20_000 },
    logging: { level: "info", format: "json", accessLog: true },
  });
});

Deno.test("resolveConfig() treats comments-only text and empty sections as defaults", async () => {
  await using project = await makeProject();
  assert.equal(resolveConfig("# nothing\n", project.file).server.port, 50051);
  assert.equal(resolveConfig("server:\nlogging:\n", project.file).logging.level, "info");
});

Deno.test("resolveConfig() returns a deeply frozen config", async () => {
  await using project = await makeProject();
  const config = resolveConfig("registry:\n  metadata: {zone: a}\n", project.file);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.server.keepalive));
  assert.ok(Object.isFrozen(config.protos.files));
  assert.ok(Object.isFrozen(config.registry.metadata));
  assert.throws(() => {
    (config.server as { port: number }).port = 1;
  }, TypeError);
});

Deno.test("resolveConfig() resolves durations to milliseconds", async () => {
  await using project = await makeProject();
  const config = resolveConfig(
    "server:\n  keepalive:\n    time: 1h30m\n    timeout: 500ms\n    maxConnectionIdle: 0\nshutdown:\n  drainDelay: 2m\n",
    project.file,
  );
  assert.equal(config.server.keepalive.time, 5_400_000);
  assert.equal(config.server.keepalive.timeout, 500);
  assert.equal(config.server.keepalive.maxConnectionIdle, 0);
  assert.equal(config.shutdown.drainDelay, 120_000);
});

Deno.test("resolveConfig() rejects plain-number and malformed durations", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() =>
    resolveConfig("server:\n  keepalive:\n    time: 10\n    timeout: 5x\n", project.file)
  );
  assert.deepEqual(issues, [
    {
      file: project.file,
      where: "server.keepalive.time",
      line: 3,
      column: 11,
      message: `expected a duration like "10s" or "1h30m", got 10 (add a unit, like "10s")`,
    },
    {
      file: project.file,
      where: "server.keepalive.timeout",
      line: 4,
      column: 14,
      message: `cannot parse duration "5x": unknown unit "x" (use ms, s, m or h)`,
    },
  ]);
});

Deno.test("resolveConfig() reports an unknown key with the closest sibling", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() => resolveConfig("prot:\n  files: [proto]\n", project.file));
  assert.deepEqual(issues, [{
    file: project.file,
    where: "prot",
    line: 1,
    column: 1,
    message: `unknown key "prot" (did you mean "protos"?)`,
  }]);
  const nested = issuesOf(() => resolveConfig("server:\n  hots: x\n  Port: 1\n", project.file));
  assert.deepEqual(nested.map((i) => i.message), [
    `unknown key "hots" (did you mean "host"?)`,
    `unknown key "Port" (did you mean "port"?)`,
  ]);
});

Deno.test("resolveConfig() points a misplaced key at its section", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() => resolveConfig("keepalive: {}\nport: 1\nzzz: 1\n", project.file));
  assert.deepEqual(issues.map((i) => i.message), [
    `unknown key "keepalive" (did you mean "server.keepalive"?)`,
    `unknown key "port" (did you mean "server.port" or "admin.port"?)`,
    `unknown key "zzz"`,
  ]);
});

Deno.test("resolveConfig() reports wrong types with the value it got", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() =>
    resolveConfig(
      `server:\n  port: abc\n  maxConcurrentStreams: "10"\nservice:\n  version: 1.2\nprotos:\n  files: proto\nadmin:\n  enabled: yes\n`,
      project.file,
    )
  );
  assert.deepEqual(issues.map((i) => [i.where, i.line, i.message]), [
    ["server.port", 2, `expected a port number 0-65535, got "abc"`],
    ["server.maxConcurrentStreams", 3, `expected an integer >= 1, got "10" (remove the quotes)`],
    ["service.version", 5, `expected a string, got 1.2 (quote it to make it a string)`],
    ["protos.files", 7, `expected a list, got "proto"`],
    ["admin.enabled", 9, `expected true or false, got "yes"`],
  ]);
});

Deno.test("resolveConfig() lists the allowed values of an enum", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() =>
    resolveConfig("logging:\n  level: warning\n  format: xml\n", project.file)
  );
  assert.deepEqual(issues.map((i) => i.message), [
    `expected one of "debug", "info", "warn", "error", got "warning" (did you mean "warn"?)`,
    `expected one of "json", "pretty", got "xml"`,
  ]);
});

Deno.test("resolveConfig() reports a YAML syntax error with its line", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() => resolveConfig("server:\n  port: 1\n  host: [a\n", project.file));
  assert.equal(issues.length, 1);
  assert.equal(issues[0].file, project.file);
  assert.equal(issues[0].line, 4);
  assert.match(issues[0].message, /Flow sequence/);
  const duplicate = issuesOf(() => resolveConfig("a: 1\na: 2\n", project.file));
  assert.deepEqual(duplicate.map((i) => [i.line, i.message]), [[2, "Map keys must be unique"]]);
});

Deno.test("resolveConfig() rejects a top level that is not a mapping", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() => resolveConfig("- a\n- b\n", project.file));
  assert.deepEqual(issues.map((i) => i.message), [
    "expected a mapping at the top level, got a list",
  ]);
});

Deno.test("resolveConfig() reports every problem at once, in line order", async () => {
  await using project = await makeProject();
  const text = [
    "logging:",
    "  level: loud",
    "server:",
    "  http2: {maxFrameBytes: 100}",
    "  port: 70000",
    "  host: ${LISTEN_HOST}",
    "handlers: missing",
    "registry:",
    "  type: etcd",
    "  endpoints: []",
  ].join("\n");
  const issues = issuesOf(() => resolveConfig(text, project.file, { SVC_ADMIN_PORT: "x" }));
  assert.deepEqual(issues.map((i) => [i.where, i.line]), [
    ["logging.level", 2],
    ["server.http2.maxFrameBytes", 4],
    ["server.port", 5],
    ["server.host", 6],
    ["handlers", 7],
    ["registry.endpoints", 10],
    ["SVC_ADMIN_PORT", undefined],
  ]);
  assert.deepEqual(issues.map((i) => i.message), [
    `expected one of "debug", "info", "warn", "error", got "loud"`,
    `expected an integer 16384-16777215, got 100`,
    `expected a port number 0-65535, got 70000`,
    `environment variable "LISTEN_HOST" is not set (write \${LISTEN_HOST:-default} to give a default)`,
    `directory not found: "${join(project.dir, "missing")}"`,
    `registry type "etcd" needs at least one endpoint`,
    `expected a port number 0-65535, got "x"`,
  ]);
});

Deno.test("resolveConfig() resolves server.http2 from the file and SVC_SERVER_HTTP2_*", async () => {
  await using project = await makeProject();
  const config = resolveConfig(
    "server:\n  http2:\n    maxHeaderListBytes: 65536\n    prefaceTimeout: 2s\n",
    project.file,
    { SVC_SERVER_HTTP2_RESET_RATE: "50", SVC_SERVER_HTTP2_MAX_HEADER_LIST_BYTES: "32768" },
  );
  assert.equal(config.server.http2.maxHeaderListBytes, 32768);
  assert.equal(config.server.http2.prefaceTimeout, 2000);
  assert.equal(config.server.http2.resetRate, 50);
  assert.equal(config.server.http2.resetBurst, 1000);
});

Deno.test("resolveConfig() keeps server.http2 within what HTTP/2 allows", async () => {
  await using project = await makeProject();
  const text = [
    "server:",
    "  http2:",
    "    maxHeaderListBytes: 512",
    "    initialWindowBytes: 2147483648",
    "    maxFrameBytes: 16777216",
    "    resetBurst: 0",
    "    prefaceTimeout: 50ms",
    "    maxOutputBytes: 1024",
  ].join("\n");
  const issues = issuesOf(() => resolveConfig(text, project.file));
  assert.deepEqual(issues.map((i) => [i.where, i.message]), [
    ["server.http2.maxHeaderListBytes", "expected an integer 1024-1048576, got 512"],
    ["server.http2.initialWindowBytes", "expected an integer 65535-2147483647, got 2147483648"],
    ["server.http2.maxFrameBytes", "expected an integer 16384-16777215, got 16777216"],
    ["server.http2.resetBurst", "expected an integer >= 1, got 0"],
    ["server.http2.prefaceTimeout", `expected at least 100ms, got "50ms"`],
    ["server.http2.maxOutputBytes", "expected an integer >= 65536, got 1024"],
  ]);
});

Deno.test("resolveConfig() reads server.web and refuses it with the grpc-js transport", async () => {
  await using project = await makeProject();
  const on = resolveConfig(
    "server:\n  web:\n    enabled: true\n    headTimeout: 2s\n",
    project.file,
  );
  assert.equal(on.server.web.enabled, true);
  assert.equal(on.server.web.headTimeout, 2000);
  assert.equal(on.server.web.maxHeadBytes, 16384);
  const issues = issuesOf(() =>
    resolveConfig(
      "server:\n  transport: grpc-js\n  web:\n    enabled: true\n    maxHeadBytez: 1\n",
      project.file,
    )
  );
  const where = issues.map((i) => i.where);
  assert.ok(where.includes("server.web.maxHeadBytez"), where.join(", "));
  assert.equal(
    issues.find((i) => i.where === "server.web.enabled")?.message,
    `gRPC-Web and Connect need server.transport "native"`,
  );
});
