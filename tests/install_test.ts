/**
 * `deno task install` puts an `svc` command on the PATH that works from any
 * directory: installed into a temporary root (DENO_INSTALL_ROOT) so nothing
 * global is touched, then run from a directory outside the checkout, where
 * it writes a service with `svc init` and serves it.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { grpcClient, ROOT, unary } from "./_harness.ts";
import { runToEnd, spawnServer } from "./_spawn.ts";

/** This deno first on PATH: the installed script runs `deno` by name. */
const PATH = `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`;

/** What the installed command needs from the environment: deno, and Deno's cache. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH, NO_COLOR: "1" };
  for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

Deno.test("deno task install gives an svc command that runs, inits and serves outside the checkout", async () => {
  const installRoot = await Deno.makeTempDir({ prefix: "svc-install-" });
  const work = await Deno.makeTempDir({ prefix: "svc-install-work-" });
  try {
    const install = await runToEnd(Deno.execPath(), ["task", "install"], {
      cwd: ROOT,
      env: { ...baseEnv(), DENO_INSTALL_ROOT: installRoot },
      timeoutMs: 120_000,
    });
    assert.equal(install.code, 0, install.stderr);
    assert.doesNotMatch(install.stderr, /Warning/, "no warnings about build scripts");
    const svc = join(installRoot, "bin", "svc");

    const version = await runToEnd(svc, ["version"], { cwd: work, env: baseEnv() });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^svc \d+\.\d+\.\d+\ndeno \d/);
    assert.match(version.stdout, /grpc-js 1\.\d+\.\d+/);

    const init = await runToEnd(svc, ["init", "billing"], { cwd: work, env: baseEnv() });
    assert.equal(init.code, 0, init.stderr);
    const dir = join(work, "billing");
    const check = await runToEnd(svc, ["check"], { cwd: dir, env: baseEnv() });
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /serves {2}billing\.Billing {2}\(handlers\/billing\.ts\)/);

    await using server = await spawnServer(svc, ["run", "svc.yaml"], {
      cwd: dir,
      env: {
        ...baseEnv(),
        SVC_SERVER_PORT: "0",
        SVC_ADMIN_PORT: "0",
        SVC_SHUTDOWN_DRAIN_DELAY: "0s",
      },
    });
    const client = grpcClient([join(dir, "proto/billing.proto")])
      .makeClient("billing.Billing", server.port);
    try {
      assert.deepEqual(await unary(client, "sayHello", { name: "Ada" }), {
        message: "Hello, Ada!",
      });
    } finally {
      client.close();
    }
    const status = await server.stop();
    assert.equal(status.code, 0, server.stderr());
    assert.equal(status.signal, null);
  } finally {
    await Deno.remove(installRoot, { recursive: true });
    await Deno.remove(work, { recursive: true });
  }
});
