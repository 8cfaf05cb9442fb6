/**
 * `svc build` end to end: the generated manifest serves what the directory
 * walk serves, the generated entry serves under exactly the permissions
 * `deno compile` bakes in, a build without denort fails with one line, and
 * (when a denort is at hand) the compiled binary serves the demo.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadApp, type LoadedApp } from "../runtime/app/load.ts";
import { buildBinary, findDenort, runtimePermissionFlags } from "../runtime/cli/build/mod.ts";
import { generateEntry, smokeDemo } from "./_build.ts";
import { makeTestCerts } from "./_certs.ts";
import { ROOT, runSvc } from "./_harness.ts";
import { svcDenoArgs } from "./_manifest_mode.ts";
import { runToEnd, spawnServer } from "./_spawn.ts";

const DEMO = `${ROOT}/config/svc.yaml`;
/** Ports 0 and no drain delay, as the harness does; deno finds its cache through these. */
const SERVER_ENV: Record<string, string> = {
  SVC_SERVER_PORT: "0",
  SVC_ADMIN_PORT: "0",
  SVC_SHUTDOWN_DRAIN_DELAY: "0s",
  NO_COLOR: "1",
  ...pick(Deno.env.toObject(), ["HOME", "DENO_DIR", "XDG_CACHE_HOME"]),
};
/**
 * npm packages read their own files (etcd3 loads its .proto files with
 * node:fs). A compiled binary may read its embedded npm packages without
 * a permission (Deno grants it, denoland/deno#19281); `deno run` needs the
 * node_modules directory granted. That is the one flag added to the binary's.
 */
const NODE_MODULES = join(ROOT, "node_modules");
const denort = findDenort();
if (!denort) {
  console.log(
    "build_test: compiled-binary test skipped: no denort (set DENORT_BIN, or run `deno compile` once online)",
  );
}

function pick(env: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
}

/** What a loaded app serves, comparable across load paths. */
function served(app: LoadedApp) {
  return {
    services: [...app.handlers.services.entries()],
    methods: app.handlers.bindings.map((b) => `${b.method.path} ${b.handler ? "ok" : "missing"}`),
    middleware: app.middleware.length,
    warnings: app.warnings,
  };
}

for (
  const example of [
    "config/svc.yaml",
    "examples/auth/svc.yaml",
    "examples/routeguide/svc.yaml",
    "tests/fixtures/e2e/svc.yaml",
  ]
) {
  Deno.test(`manifest of ${example} loads, and loadApp() with it serves what the directory walk serves`, async () => {
    const config = join(ROOT, example);
    await using generated = await generateEntry(config);
    const manifest = await import(new URL(`file://${generated.manifest.file}`).href);
    const fromManifest = await loadApp(config, {
      env: {},
      handlerSources: manifest.handlerSources,
      middlewareSources: manifest.middlewareSources,
    });
    const fromDisk = await loadApp(config, { env: {} });
    assert.ok(fromDisk.handlers.services.size > 0);
    assert.deepEqual(served(fromManifest), served(fromDisk));
  });
}

/**
 * An empty directory for `SVC_HANDLERS`: the directory walk finds nothing
 * there, so whatever is served came from the manifest.
 */
async function emptyHandlers(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "svc_no_handlers_" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir) };
}

Deno.test("the generated entry serves the demo's handlers from the manifest, under the binary's permissions", async () => {
  await using generated = await generateEntry(DEMO);
  await using empty = await emptyHandlers();
  const flags = runtimePermissionFlags(generated.config, { allowRead: [NODE_MODULES, empty.dir] });
  await using server = await spawnServer(
    Deno.execPath(),
    ["run", ...flags, generated.entry, "run", DEMO],
    { env: { ...SERVER_ENV, SVC_HANDLERS: empty.dir }, cwd: ROOT },
  );
  await smokeDemo(server);
});

Deno.test("a built binary refused a file names what it may read and svc build --allow-read; granted, it serves", async () => {
  await using empty = await emptyHandlers();
  const certs = await makeTestCerts(); // outside every path the config names, as a mounted secret
  try {
    const env = {
      ...SERVER_ENV,
      SVC_HANDLERS: empty.dir,
      SVC_SERVER_TLS_CERT: certs.serverCert,
      SVC_SERVER_TLS_KEY: certs.serverKey,
    };
    {
      await using generated = await generateEntry(DEMO, {}, [NODE_MODULES, empty.dir]);
      const flags = runtimePermissionFlags(generated.config, {
        allowRead: [NODE_MODULES, empty.dir],
      });
      const refused = await runToEnd(
        Deno.execPath(),
        ["run", ...flags, generated.entry, "run", DEMO],
        { cwd: ROOT, env },
      );
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /SVC_SERVER_TLS_CERT: cannot access .*server\.pem/);
      assert.match(
        refused.stderr,
        /^svc: this binary may read only \/etc\/svc, .*; build it again with svc build --allow-read PATH/m,
      );
    }
    await using generated = await generateEntry(DEMO, {}, [NODE_MODULES, empty.dir, certs.dir]);
    const flags = runtimePermissionFlags(generated.config, {
      allowRead: [NODE_MODULES, empty.dir, certs.dir],
    });
    const manifest = await import(new URL(`file://${generated.manifest.file}`).href);
    assert.ok(manifest.readPaths.includes(certs.dir), "the manifest records the extra path");
    await using server = await spawnServer(
      Deno.execPath(),
      ["run", ...flags, generated.entry, "run", DEMO],
      { env, cwd: ROOT },
    );
    const serving = server.logs().find((l) => l.msg === "serving");
    assert.equal(serving?.tls, true);
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test("svc build takes --allow-read; other commands refuse it", async () => {
  const result = await runSvc(["run", DEMO, "--allow-read", "/tmp"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /svc run: unexpected arguments/);
  const help = await runSvc(["build", "--help"]);
  assert.match(help.stdout, /--allow-read PATH/);
});

Deno.test("the generated entry answers check and version like the dev CLI", async () => {
  await using generated = await generateEntry(DEMO);
  await using empty = await emptyHandlers();
  const flags = runtimePermissionFlags(generated.config, { allowRead: [NODE_MODULES, empty.dir] });
  const run = (args: string[]) =>
    runToEnd(Deno.execPath(), ["run", ...flags, generated.entry, ...args], {
      cwd: ROOT,
      env: { NO_COLOR: "1", SVC_HANDLERS: empty.dir },
    });
  const check = await run(["check", DEMO]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /serves {2}helloworld\.Greeter {2}\(handlers\/greeter\.ts\)/);
  assert.match(check.stdout, /ok: 1 service, 4 methods, 4 with handlers/);
  const version = await run(["version"]);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^svc .*\ndeno 2\.8\.3\n/);
});

Deno.test({
  name: "svc build without a denort exits 1 with one line naming DENORT_BIN",
  ignore: denort !== null,
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      // A dead proxy keeps an online machine from downloading denort, so
      // the test shows the offline failure everywhere, within seconds.
      const result = await runSvc(["build", DEMO, "-o", join(out, "svc")], {
        env: { HTTPS_PROXY: "http://127.0.0.1:9", DENORT_BIN: "" },
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 1, result.stderr);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `one line, got:\n${result.stderr}`);
      assert.match(lines[0], /^svc: deno compile could not get denort\b.*set DENORT_BIN to /);
      const left = [];
      for await (const entry of Deno.readDir(out)) left.push(entry.name);
      assert.deepEqual(left, [], "no binary, and no partial one, is left");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test({
  name: "the compiled binary serves the demo, answers check and version, and exits 0 on SIGTERM",
  ignore: denort === null,
  async fn() {
    const out = await Deno.makeTempDir();
    await using generated = await generateEntry(DEMO);
    try {
      const binary = join(out, "svc");
      await buildBinary({
        config: DEMO,
        output: binary,
        buildDir: generated.dir,
        timeoutMs: 300_000,
      });
      // Run from elsewhere with a clean environment: nothing but the binary and the config.
      await using server = await spawnServer(binary, ["run", DEMO], { env: SERVER_ENV, cwd: out });
      await smokeDemo(server);
      const check = await runToEnd(binary, ["check", DEMO], { cwd: out });
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stdout, /serves {2}helloworld\.Greeter/);
      const version = await runToEnd(binary, ["version"], { cwd: out });
      assert.match(version.stdout, new RegExp(`deno ${Deno.version.deno.replaceAll(".", "\\.")}`));
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("svcDenoArgs() runs main.ts, or in manifest mode an entry generated for the config", async () => {
  const options = { cwd: ROOT, env: {}, manifest: false };
  const main = join(ROOT, "main.ts");
  assert.deepEqual(await svcDenoArgs(["run", DEMO], options), ["run", "-A", main, "run", DEMO]);
  const args = await svcDenoArgs(["check", DEMO], { ...options, manifest: true });
  assert.match(args[2], /\/dist\/manifest_mode_\w+\/\d+\/svc_entry\.ts$/);
  assert.deepEqual(args.slice(3), ["check", DEMO]);
  const manifest = await Deno.readTextFile(args[2].replace("svc_entry.ts", "svc_manifest.ts"));
  assert.match(manifest, /import\("\.\.\/\.\.\/\.\.\/handlers\/greeter\.ts"\)/);
  // Commands other than run/check, and configs that do not load, stay on main.ts.
  assert.equal((await svcDenoArgs(["types", DEMO], { ...options, manifest: true }))[2], main);
  const broken = await svcDenoArgs(["run", "no/such.yaml"], { ...options, manifest: true });
  assert.equal(broken[2], main);
});
