/**
 * `svc init [DIR]`: the service it writes passes `deno check`, `svc check` and
 * `svc run` (called by a real grpc-js client) as written; it overwrites
 * nothing; with no CONFIG, `svc check` and `svc run` find its svc.yaml.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeEntry, writeManifest } from "../runtime/cli/build/mod.ts";
import { loadConfig } from "../runtime/config/mod.ts";
import { grpcClient, MAIN_TS, ROOT, runSvc, startSvc, unary } from "./_harness.ts";
import { runToEnd } from "./_spawn.ts";

/** Every file init writes for a directory called "hello-shop", relative to it. */
const WRITTEN = [
  "svc.yaml",
  "proto/hello_shop.proto",
  "handlers/hello_shop.ts",
  "handlers/_types.ts",
  "deno.json",
  ".gitignore",
];

/** `svc init ...args` as the brief's users run it from a checkout, in `cwd`. */
function svcInit(args: string[], cwd: string) {
  return runToEnd(
    Deno.execPath(),
    ["run", "-A", "--config", join(ROOT, "deno.json"), MAIN_TS, "init", ...args],
    { cwd, env: { NO_COLOR: "1" } },
  );
}

/** `deno <args>` in `cwd`. */
function deno(args: string[], cwd: string) {
  return runToEnd(Deno.execPath(), args, { cwd, env: { NO_COLOR: "1" } });
}

/** A temporary directory, removed on dispose. */
async function tempDir() {
  const path = await Deno.makeTempDir({ prefix: "svc-init-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** Every file under `dir` with its text, sorted by path. */
async function snapshot(dir: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries = await Array.fromAsync(Deno.readDir(join(dir, prefix)));
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) Object.assign(out, await snapshot(dir, path));
    else out[path] = await Deno.readTextFile(join(dir, path));
  }
  return out;
}

Deno.test("svc init writes a service that deno check, svc check and svc run accept as written", async () => {
  await using tmp = await tempDir();
  const dir = join(tmp.path, "hello-shop");
  const init = await svcInit([dir], tmp.path);
  assert.equal(init.code, 0, init.stderr);
  for (const file of WRITTEN) assert.match(init.stdout, new RegExp(`wrote ${file}\n`));
  assert.match(init.stdout, /created service hello-shop \(hello_shop\.HelloShop\)/);
  assert.match(init.stdout, /^ {2}cd hello-shop$/m);
  assert.match(init.stdout, /^ {2}svc dev /m);
  assert.match(init.stdout, /^ {2}svc run svc\.yaml /m);
  assert.deepEqual(Object.keys(await snapshot(dir)).sort(), [...WRITTEN].sort());

  const denoJson = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
  assert.equal(denoJson.imports.svc, pathToFileURL(join(ROOT, "runtime/mod.ts")).href);
  assert.equal(denoJson.imports.protobufjs, "npm:protobufjs@7.6.6");

  // The handler type-checks against the generated types, and deno fmt and lint find nothing.
  for (const args of [["check", "handlers/hello_shop.ts"], ["fmt", "--check"], ["lint"]]) {
    const result = await deno(args, dir);
    assert.equal(result.code, 0, `deno ${args.join(" ")}:\n${result.stderr}`);
  }

  // _types.ts is what `svc types` writes for the same config.
  const types = await runSvc(["types", "svc.yaml", "-o", join(tmp.path, "types.ts")], { cwd: dir });
  assert.equal(types.code, 0, types.stderr);
  assert.equal(
    await Deno.readTextFile(join(dir, "handlers/_types.ts")),
    await Deno.readTextFile(join(tmp.path, "types.ts")),
  );

  // No CONFIG: config/svc.yaml is absent, so svc.yaml is used.
  const check = await runSvc(["check"], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /^config {2}svc\.yaml \(service "hello-shop" /m);
  assert.match(check.stdout, /serves {2}hello_shop\.HelloShop {2}\(handlers\/hello_shop\.ts\)/);
  assert.match(check.stdout, /SayHello\s+unary\s+ok/);

  const factory = grpcClient([join(dir, "proto/hello_shop.proto")]);
  for (const args of [["run", "svc.yaml"], ["run"]]) {
    await using svc = await startSvc({ config: "svc.yaml", args, cwd: dir });
    const client = factory.makeClient("hello_shop.HelloShop", svc.port);
    try {
      assert.deepEqual(await unary(client, "sayHello", { name: "Ada" }), {
        message: "Hello, Ada!",
      });
      await assert.rejects(unary(client, "sayHello", { name: "x".repeat(201) }), {
        code: 3, // INVALID_ARGUMENT, from the handler's RpcError
      });
    } finally {
      client.close();
    }
    assert.deepEqual(await svc.stop(), { code: 0, signal: null }, `svc ${args.join(" ")}`);
  }
});

Deno.test("svc init overwrites nothing: it names every file in the way, exits 2 and writes nothing", async () => {
  await using tmp = await tempDir();
  const dir = join(tmp.path, "hello-shop");
  assert.equal((await svcInit([dir], tmp.path)).code, 0);
  await Deno.writeTextFile(join(dir, "handlers/hello_shop.ts"), "// edited by hand\n");
  const before = await snapshot(dir);

  const again = await svcInit(["hello-shop"], tmp.path);
  assert.equal(again.code, 2, again.stderr);
  for (const file of WRITTEN) {
    assert.match(again.stderr, new RegExp(`^hello-shop/${file}: already exists`, "m"));
  }
  assert.doesNotMatch(again.stderr, /^\s+at /m, "no stack trace");
  assert.deepEqual(await snapshot(dir), before);

  // One file in the way is enough, and nothing else appears beside it.
  const other = join(tmp.path, "other");
  await Deno.mkdir(other);
  await Deno.writeTextFile(join(other, ".gitignore"), "mine\n");
  const one = await svcInit([], other);
  assert.equal(one.code, 2, one.stderr);
  assert.match(one.stderr, /^\.gitignore: already exists; svc init overwrites nothing$/m);
  assert.doesNotMatch(one.stderr, /svc\.yaml/);
  assert.deepEqual(await snapshot(other), { ".gitignore": "mine\n" });

  // A file where init needs a directory.
  await Deno.remove(join(other, ".gitignore"));
  await Deno.writeTextFile(join(other, "proto"), "");
  const proto = await svcInit([], other);
  assert.equal(proto.code, 2, proto.stderr);
  assert.match(proto.stderr, /^proto: exists and is not a directory$/m);
  assert.deepEqual(await snapshot(other), { proto: "" });

  // A DIR that is a file.
  const file = await svcInit(["other/proto"], tmp.path);
  assert.equal(file.code, 2);
  assert.match(file.stderr, /^other\/proto: exists and is not a directory$/m);
});

Deno.test("svc init with no DIR names the service after the working directory, as a proto identifier", async () => {
  await using tmp = await tempDir();
  const dir = join(tmp.path, "2fa Codes");
  await Deno.mkdir(dir);
  const init = await svcInit([], dir);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /created service svc-2fa-codes \(svc_2fa_codes\.Svc2faCodes\)/);
  assert.doesNotMatch(init.stdout, /^ {2}cd /m, "already there");
  const check = await runSvc(["check"], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  assert.match(
    check.stdout,
    /serves {2}svc_2fa_codes\.Svc2faCodes {2}\(handlers\/svc_2fa_codes\.ts\)/,
  );
});

Deno.test("with no CONFIG, config/svc.yaml wins over svc.yaml, and its absence is reported", async () => {
  await using tmp = await tempDir();
  const dir = join(tmp.path, "hello-shop");
  assert.equal((await svcInit([dir], tmp.path)).code, 0);
  await Deno.mkdir(join(dir, "config"));
  await Deno.writeTextFile(
    join(dir, "config/svc.yaml"),
    "service: { name: older }\nprotos: { files: [../proto] }\nhandlers: ../handlers\n",
  );
  const check = await runSvc(["check"], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /^config {2}config\/svc\.yaml \(service "older" /m);

  const empty = join(tmp.path, "empty");
  await Deno.mkdir(empty);
  const missing = await runSvc(["check"], { cwd: empty });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^config\/svc\.yaml: file not found$/m);
});

Deno.test("svc init in a built binary's code path refuses with a clear message", async () => {
  await using tmp = await tempDir();
  const dir = join(tmp.path, "hello-shop");
  assert.equal((await svcInit([dir], tmp.path)).code, 0);
  // The entry module svc build compiles, run with deno: main() gets the built-in handlers.
  const build = join(tmp.path, "build");
  await writeManifest(
    await loadConfig(join(dir, "svc.yaml"), { env: {} }),
    join(build, "svc_manifest.ts"),
  );
  const entry = await writeEntry(build);
  const result = await runToEnd(
    Deno.execPath(),
    ["run", "-A", "--config", join(ROOT, "deno.json"), entry, "init", "fresh"],
    { cwd: tmp.path, env: { NO_COLOR: "1" } },
  );
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^svc init: this is a built binary/m);
  await assert.rejects(Deno.stat(join(tmp.path, "fresh")), Deno.errors.NotFound);
});
