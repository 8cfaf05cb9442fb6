import assert from "node:assert/strict";
import { join } from "node:path";
import { makeProject } from "../../config/_testing.ts";
import { UserInputError } from "../../core/errors.ts";
import {
  buildBinary,
  BuildError,
  compileArgs,
  compileFailure,
  findDenoConfig,
  WORKER_MODULE,
} from "./compile.ts";

const DENORT_STDERR = `Compile dist/svc_entry.ts to dist/svc
Download https://dl.deno.land/release/v2.8.3/denort-x86_64-unknown-linux-gnu.zip
error: Writing deno compile executable to temporary file 'dist/svc.tmp-1'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.8.3/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error
    2: client error (Connect)
    3: dns error
    4: failed to lookup address information: Name or service not known

Stack backtrace:
   0: <unknown>
`;

/** A project `svc check` accepts: one proto service and its handler. */
const PROJECT = {
  "svc.yaml": "",
  "proto/t.proto":
    'syntax = "proto3";\npackage t;\nmessage M {}\nservice A { rpc Do(M) returns (M); }\n',
  "handlers/a.ts": 'import { defineService } from "svc";\n' +
    'export default defineService("t.A", { do() { return {}; } });\n',
};

/** A stand-in for deno that records its arguments and DENORT_BIN, then exits `code`. */
async function fakeDeno(dir: string, code = 0, stderr = ""): Promise<string> {
  const file = join(dir, "fake_deno");
  await Deno.writeTextFile(
    file,
    `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\nprintf '%s' "$DENORT_BIN" > "${dir}/denort"\n` +
      `cat >&2 <<'EOF'\n${stderr}EOF\nexit ${code}\n`,
  );
  await Deno.chmod(file, 0o755);
  return file;
}

Deno.test("compileArgs() puts permissions, deno.json, output and entry in order", () => {
  assert.deepEqual(
    compileArgs({
      entry: "/p/dist/svc_entry.ts",
      output: "/p/dist/svc",
      permissions: ["--allow-net", "--no-prompt"],
      denoConfig: "/p/deno.json",
    }),
    [
      "compile",
      "--allow-net",
      "--no-prompt",
      "--v8-flags=--max-semi-space-size=2,--no-allocation-site-pretenuring",
      "--config",
      "/p/deno.json",
      "--include",
      WORKER_MODULE,
      "--output",
      "/p/dist/svc",
      "/p/dist/svc_entry.ts",
    ],
  );
});

Deno.test("buildBinary() writes the manifest and entry and runs deno compile with the narrow flags", async () => {
  await using project = await makeProject(PROJECT);
  const tools = await Deno.makeTempDir();
  try {
    const result = await buildBinary({
      config: project.file,
      output: join(project.dir, "out", "svc"),
      buildDir: join(project.dir, "build"),
      denoBin: await fakeDeno(tools),
      denortBin: tools, // any existing path is passed on; deno checks it
      denoConfig: "/p/deno.json",
      env: {},
    }).catch((error) => error);
    assert.ok(result instanceof BuildError, "a directory is not a denort binary");
    assert.match(result.message, /DENORT_BIN=.* is not a file/);

    const denort = join(tools, "denort_bin");
    await Deno.writeTextFile(denort, "");
    const built = await buildBinary({
      config: project.file,
      output: join(project.dir, "out", "svc"),
      buildDir: join(project.dir, "build"),
      denoBin: await fakeDeno(tools),
      denortBin: denort,
      denoConfig: "/p/deno.json",
      env: {},
    });
    const args = (await Deno.readTextFile(join(tools, "args"))).trimEnd().split("\n");
    assert.deepEqual(args, built.args);
    assert.deepEqual(args, [
      "compile",
      "--allow-net",
      "--allow-env",
      "--allow-sys=networkInterfaces",
      `--allow-read=/etc/svc,${project.dir}`,
      "--no-prompt",
      "--v8-flags=--max-semi-space-size=2,--no-allocation-site-pretenuring",
      "--config",
      "/p/deno.json",
      "--include",
      WORKER_MODULE,
      "--output",
      join(project.dir, "out", "svc"),
      join(project.dir, "build", "svc_entry.ts"),
    ]);
    assert.equal(await Deno.readTextFile(join(tools, "denort")), denort);
    assert.deepEqual(built.manifest.handlers, [join(project.dir, "handlers", "a.ts")]);
    assert.match(await Deno.readTextFile(built.entry), /svc_manifest\.ts/);
  } finally {
    await Deno.remove(tools, { recursive: true });
  }
});

Deno.test("buildBinary() turns a failed denort download into one line naming DENORT_BIN", async () => {
  await using project = await makeProject(PROJECT);
  const tools = await Deno.makeTempDir();
  try {
    const error = await buildBinary({
      config: project.file,
      buildDir: join(project.dir, "build"),
      output: join(project.dir, "svc"),
      denoBin: await fakeDeno(tools, 1, DENORT_STDERR),
      env: {},
    }).catch((e) => e);
    assert.ok(error instanceof BuildError);
    assert.ok(!error.message.includes("\n"), error.message);
    assert.match(error.message, /Name or service not known.*DENORT_BIN/);
  } finally {
    await Deno.remove(tools, { recursive: true });
  }
});

Deno.test("buildBinary() names a missing deno executable", async () => {
  await using project = await makeProject(PROJECT);
  const error = await buildBinary({
    config: project.file,
    buildDir: join(project.dir, "build"),
    denoBin: join(project.dir, "no-such-deno"),
    env: {},
  }).catch((e) => e);
  assert.ok(error instanceof BuildError);
  assert.match(error.message, /^cannot run ".*no-such-deno".*svc build needs Deno/);
});

Deno.test("compileFailure() keeps deno's diagnostics for other errors, without the backtrace", () => {
  const message = compileFailure(
    "\x1b[31merror\x1b[0m: TS2322 [ERROR]: Type 'number' is not assignable\n    at file:///p/handlers/a.ts:1:1\n\nStack backtrace:\n   0: <unknown>\n",
    1,
  );
  assert.equal(
    message,
    "deno compile failed (exit code 1):\nerror: TS2322 [ERROR]: Type 'number' is not assignable\n    at file:///p/handlers/a.ts:1:1",
  );
});

Deno.test("findDenoConfig() finds this repository's deno.json from a subdirectory", () => {
  const repo = new URL("../../../", import.meta.url).pathname;
  assert.equal(findDenoConfig(join(repo, "runtime", "build")), join(repo, "deno.json"));
  assert.equal(findDenoConfig("/"), null);
});

Deno.test("buildBinary() stops at a handler svc check rejects, before deno compile", async () => {
  await using project = await makeProject({
    ...PROJECT,
    "handlers/a.ts":
      'import { defineService } from "svc";\nexport default defineService("t.Nope", {});\n',
  });
  const tools = await Deno.makeTempDir();
  try {
    const error = await buildBinary({
      config: project.file,
      buildDir: join(project.dir, "build"),
      denoBin: await fakeDeno(tools),
      env: {},
    }).catch((e) => e);
    assert.ok(error instanceof UserInputError, String(error));
    assert.match(error.issues[0].message, /unknown service "t\.Nope"/);
    assert.equal(await Deno.stat(join(tools, "args")).catch(() => null), null, "deno not run");
  } finally {
    await Deno.remove(tools, { recursive: true });
  }
});
