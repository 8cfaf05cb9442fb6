import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config/mod.ts";
import { makeProject } from "../../config/_testing.ts";
import { readPaths, runtimePermissionFlags } from "./permissions.ts";

Deno.test("runtimePermissionFlags() grants net, env, one sys call and reads of the config's paths", async () => {
  await using project = await makeProject({
    "svc.yaml": "protos: { files: [proto], includePaths: [/usr/share] }\n",
  });
  const config = await loadConfig(project.file, { env: {} });
  const d = project.dir;
  // Everything under the config's directory is covered by it.
  assert.deepEqual(readPaths(config), ["/etc/svc", d, "/usr/share"]);
  assert.deepEqual(runtimePermissionFlags(config, { allowRead: ["/run/secrets"] }), [
    "--allow-net",
    "--allow-env",
    "--allow-sys=networkInterfaces",
    `--allow-read=/etc/svc,${d},/usr/share,/run/secrets`,
    "--no-prompt",
  ]);
  assert.deepEqual(runtimePermissionFlags(config, { allowAll: true }), ["--allow-all"]);
});

Deno.test("readPaths() lists the config's paths outside its directory; commas are escaped", async () => {
  await using project = await makeProject({
    "conf/svc.yaml": [
      "protos: { files: [../proto] }",
      "handlers: ../handlers",
      "server:",
      "  tls:",
      '    cert: "../certs/a,b.pem"',
      "    key: ../certs/key.pem",
      "",
    ].join("\n"),
    "certs/a,b.pem": "x",
    "certs/key.pem": "x",
  });
  const config = await loadConfig(join(project.dir, "conf", "svc.yaml"), { env: {} });
  const d = project.dir;
  assert.deepEqual(readPaths(config), [
    "/etc/svc",
    join(d, "conf"),
    join(d, "proto"),
    join(d, "handlers"),
    join(d, "certs", "a,b.pem"),
    join(d, "certs", "key.pem"),
  ]);
  assert.ok(runtimePermissionFlags(config)[3].includes(`${d}/certs/a,,b.pem`));
});
