/**
 * Helpers for the build and scratch tests: generate a manifest and entry
 * module into a throwaway directory under `dist/`, list the local modules
 * an entry's graph holds, and smoke-test a served demo. Not a test file.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  MANIFEST_FILE,
  readPaths,
  writeEntry,
  writeManifest,
  type WrittenManifest,
} from "../runtime/cli/build/mod.ts";
import { loadConfig, type ResolvedConfig } from "../runtime/config/mod.ts";
import { grpcClient, readAll, ROOT, unary } from "./_harness.ts";
import type { ServerProcess } from "./_spawn.ts";

/** A generated manifest and entry; `await using` removes them. */
export interface GeneratedEntry extends AsyncDisposable {
  /** The build directory, `dist/test_*` in the repository. */
  dir: string;
  entry: string;
  manifest: WrittenManifest;
  config: ResolvedConfig;
}

/**
 * Writes `svc_manifest.ts` and `svc_entry.ts` for `configPath` into a fresh
 * directory under the repository's `dist/` (inside the repository, so its
 * deno.json resolves `"svc"` and the npm packages, as for `svc build`).
 */
export async function generateEntry(
  configPath: string,
  env: Record<string, string> = {},
  allowRead: readonly string[] = [],
): Promise<GeneratedEntry> {
  const config = await loadConfig(configPath, { env });
  await Deno.mkdir(join(ROOT, "dist"), { recursive: true });
  const dir = await Deno.makeTempDir({ dir: join(ROOT, "dist"), prefix: "test_" });
  const manifest = await writeManifest(
    config,
    join(dir, MANIFEST_FILE),
    readPaths(config, allowRead),
  );
  const entry = await writeEntry(dir);
  return {
    dir,
    entry,
    manifest,
    config,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * The local files in `entry`'s module graph, absolute: what `deno compile`
 * embeds besides npm packages (handler files reached by the manifest's
 * literal `import()` included).
 */
export async function localModules(entry: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(stdout)) as { modules: { specifier: string }[] };
  return info.modules
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("file:"))
    .map((s) => fileURLToPath(s));
}

/** Where Debian's grpc-proto package keeps the health and reflection protos. */
const GRPC_PROTO_DIR = "/usr/share/grpc-proto";

/**
 * The end-to-end smoke run against a demo server (config/svc.yaml's
 * helloworld.Greeter): a unary call, health Check and reflection (when the
 * grpc-proto package is installed), the admin probes and metrics, then
 * SIGTERM and a clean exit. Returns what was checked, for the test's log.
 */
export async function smokeDemo(server: ServerProcess): Promise<string[]> {
  const checked: string[] = [];
  const greeter = grpcClient([`${ROOT}/proto/helloworld.proto`]).makeClient(
    "helloworld.Greeter",
    server.port,
  );
  try {
    const reply = await unary(greeter, "sayHello", { name: "Ada" }).catch((error) => {
      throw new Error(
        `SayHello failed (${error.message}): does runtime/cli's main(args, { handlerSources }) ` +
          `pass the manifest's sources to loadApp?`,
      );
    });
    assert.equal(reply.message, "Hello, Ada!", "the handler built into the entry answers");
    checked.push("SayHello");
  } finally {
    greeter.close();
  }
  if (await exists(`${GRPC_PROTO_DIR}/grpc/health/v1/health.proto`)) {
    const health = grpcClient([`${GRPC_PROTO_DIR}/grpc/health/v1/health.proto`])
      .makeClient("grpc.health.v1.Health", server.port);
    const reflection = grpcClient([`${GRPC_PROTO_DIR}/grpc/reflection/v1/reflection.proto`])
      .makeClient("grpc.reflection.v1.ServerReflection", server.port);
    try {
      const status = await unary(health, "check", { service: "helloworld.Greeter" });
      assert.equal(status.status, "SERVING");
      const call = reflection.serverReflectionInfo();
      call.write({ fileContainingSymbol: "helloworld.Greeter" });
      call.end();
      const [answer] = await readAll<Record<string, Record<string, unknown[]>>>(call);
      assert.ok(
        answer.fileDescriptorResponse?.fileDescriptorProto?.length,
        "reflection reads the proto",
      );
      checked.push("health Check", "reflection");
    } finally {
      health.close();
      reflection.close();
    }
  }
  const admin = `http://127.0.0.1:${server.adminPort}`;
  const live = await fetch(`${admin}/healthz`);
  assert.equal(live.status, 200, await live.text());
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  assert.match(
    metrics,
    /grpc_server_handled_total\{[^}]*grpc_method="SayHello"[^}]*grpc_code="OK"[^}]*\} 1/,
  );
  checked.push("/healthz", "/metrics");

  const status = await server.stop();
  assert.equal(status.code, 0, `exit code; stderr:\n${server.stderr()}`);
  assert.ok(server.logs().some((l) => l.msg === "shutdown: complete"), server.stderr());
  const problems = server.logs().filter((l) => l.level === "error" || l.level === "warn");
  assert.deepEqual(problems, [], "no warnings or errors were logged");
  checked.push("SIGTERM → exit 0");
  return checked;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
