import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "./resolve.ts";
import { issuesOf, makeProject } from "./_testing.ts";

Deno.test("resolveConfig() resolves paths against the config file's directory", async () => {
  await using project = await makeProject({
    "deploy/svc.yaml": "",
    "api/": "",
    "api/extra.proto": "",
    "third_party/": "",
    "code/handlers/": "",
    "tls/a.pem": "",
    "tls/a.key": "",
    "tls/ca.pem": "",
  });
  const text = [
    "protos:",
    "  files: [../api, ../api/extra.proto]",
    "  includePaths: [../third_party]",
    "handlers: ../code/handlers",
    "server:",
    "  tls: {cert: ../tls/a.pem, key: ../tls/a.key, ca: ../tls/ca.pem, clientAuth: require}",
    "registry:",
    `  tls: {ca: ${join(project.dir, "tls/ca.pem")}}`,
  ].join("\n");
  const config = resolveConfig(text, join(project.dir, "deploy/svc.yaml"));
  assert.deepEqual(config.protos, {
    files: [join(project.dir, "api"), join(project.dir, "api/extra.proto")],
    includePaths: [join(project.dir, "third_party")],
  });
  assert.equal(config.handlers, join(project.dir, "code/handlers"));
  assert.equal(config.server.tls?.ca, join(project.dir, "tls/ca.pem"));
  assert.equal(config.server.tls?.clientAuth, "require");
  assert.deepEqual(config.registry.tls, {
    ca: join(project.dir, "tls/ca.pem"),
    cert: null,
    key: null,
  });
});

Deno.test("resolveConfig() reports missing paths with their YAML path and line", async () => {
  await using project = await makeProject({ "a.pem": "" });
  const text =
    "protos:\n  files:\n    - proto\n    - nope.proto\nserver:\n  tls:\n    cert: a.pem\n    key: .\n";
  const issues = issuesOf(() => resolveConfig(text, project.file));
  assert.deepEqual(issues, [
    {
      file: project.file,
      where: "protos.files[1]",
      line: 4,
      column: 7,
      message: `file or directory not found: "${join(project.dir, "nope.proto")}"`,
    },
    {
      file: project.file,
      where: "server.tls.key",
      line: 8,
      column: 10,
      message: `expected a file, got a directory: "${project.dir}"`,
    },
  ]);
});

Deno.test("resolveConfig() requires the default handlers and proto directories", async () => {
  await using project = await makeProject();
  await Deno.remove(join(project.dir, "handlers"));
  const issues = issuesOf(() => resolveConfig("", project.file));
  assert.deepEqual(issues, [{
    file: project.file,
    where: "handlers",
    message: `directory not found: "${join(project.dir, "handlers")}"`,
  }]);
});

Deno.test("resolveConfig() reports missing required keys of a section", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() =>
    resolveConfig("server:\n  tls:\n    clientAuth: none\nregistry:\n  auth: {}\n", project.file)
  );
  assert.deepEqual(issues.map((i) => [i.where, i.line, i.message]), [
    ["server.tls", 3, `missing required key "cert"`],
    ["server.tls", 3, `missing required key "key"`],
    ["registry.auth", 5, `missing required key "username"`],
    ["registry.auth", 5, `missing required key "password"`],
  ]);
});
