/**
 * The gRPC interop cases, run by Python's grpcio client against
 * examples/interop served by svc.
 * @module
 */
import assert from "node:assert/strict";
import { ROOT, startSvc, TEST_TRANSPORT } from "./_harness.ts";

const PYTHON = "/usr/bin/python3";
const CLIENT = `${ROOT}/tests/interop/interop_client.py`;
const PROTO_DIR = Deno.env.get("GRPC_PROTO_DIR") ?? "/usr/share/grpc-proto";

/** The cases interop_client.py runs, in its order. */
const CASES = [
  "empty_unary",
  "large_unary",
  "client_streaming",
  "server_streaming",
  "ping_pong",
  "empty_stream",
  "custom_metadata",
  "status_code_and_message",
  "special_status_message",
  "unimplemented_method",
  "unimplemented_service",
  "cancel_after_begin",
  "cancel_after_first_response",
  "timeout_on_sleeping_server",
  "client_compressed_unary",
  "server_compressed_unary",
  "client_compressed_streaming",
  "server_compressed_streaming",
];

const missing = [PYTHON, "/usr/bin/protoc", `${PROTO_DIR}/grpc/testing/test.proto`]
  .filter((path) => !exists(path));
if (missing.length) {
  console.warn(`interop_test.ts skipped: missing ${missing.join(", ")}`);
}

Deno.test({
  name: "examples/interop passes the gRPC interop cases with Python's grpcio client",
  ignore: missing.length > 0,
  async fn(t) {
    await using svc = await startSvc({
      config: "examples/interop/svc.yaml",
      env: { SVC_ADMIN_ENABLED: "false", GRPC_PROTO_DIR: PROTO_DIR },
    });
    // grpc-js does not tell the pipeline whether a message was compressed, nor lets it
    // choose per message (docs/transport.md): the compression cases cannot pass there.
    const skipped = (name: string) => TEST_TRANSPORT !== "native" && name.includes("compressed");
    const run = await runClient(
      ["--port", String(svc.port), "--cases", CASES.filter((c) => !skipped(c)).join(",")],
      180_000,
    );
    const results = new Map<string, string>();
    for (const line of run.stdout.split("\n")) {
      const m = /^(PASS|FAIL) ([a-z_]+)(?:: (.*))?$/.exec(line);
      if (m) results.set(m[2], m[1] === "PASS" ? "" : m[3] ?? "failed");
    }
    for (const name of CASES) {
      const ignore = skipped(name);
      if (ignore) console.warn(`${name} skipped on grpc-js: no per-message compression`);
      await t.step({
        name,
        ignore,
        fn: () => {
          assert.ok(
            results.has(name),
            `no result for ${name}; client exited ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`,
          );
          assert.equal(results.get(name), "", `${name}: ${results.get(name)}`);
        },
      });
    }
    assert.equal(run.code, 0, `client exited ${run.code}\nstderr:\n${run.stderr}`);
    const exit = await svc.stop();
    assert.equal(exit.code, 0, `svc exited ${exit.code} (${exit.signal})\n${svc.stderr()}`);
  },
});

async function runClient(args: string[], timeoutMs: number) {
  const child = new Deno.Command(PYTHON, {
    args: [CLIENT, ...args],
    env: { GRPC_PROTO_DIR: PROTO_DIR },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const output = child.output();
  const first = await Promise.race([output, timeout]);
  clearTimeout(timer);
  if (first === "timeout") child.kill("SIGKILL");
  const result = await output;
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: first === "timeout" ? -1 : result.code,
    stdout: decode(result.stdout),
    stderr: (first === "timeout" ? `timed out after ${timeoutMs} ms\n` : "") +
      decode(result.stderr),
  };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
