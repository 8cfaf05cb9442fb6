import assert from "node:assert/strict";
import { LineCounter, parseDocument } from "yaml";
import { fromYaml, nodeAt } from "./raw.ts";
import { resolveConfig } from "./resolve.ts";
import { issuesOf, makeProject } from "./_testing.ts";

Deno.test("fromYaml() records positions and expands variables in values only", () => {
  const lineCounter = new LineCounter();
  const doc = parseDocument("a:\n  ${K}: ${V:-x}\n", { lineCounter });
  const root = fromYaml(doc.contents, [], { doc, lineCounter, env: {}, onProblem: () => {} });
  assert.deepEqual(nodeAt(root, ["a", "${K}"]), {
    type: "scalar",
    value: "x",
    loose: true,
    origin: { line: 2, column: 9 },
  });
});

Deno.test("resolveConfig() coerces expanded values to the type the key wants", async () => {
  await using project = await makeProject();
  const text = "server:\n  port: ${PORT:-50051}\nadmin:\n  enabled: ${ADMIN:-false}\n" +
    "rateLimit:\n  global: {rate: '${RATE}'}\n";
  const config = resolveConfig(text, project.file, { RATE: "2.5" });
  assert.equal(config.server.port, 50051);
  assert.equal(config.admin.enabled, false);
  assert.deepEqual(config.rateLimit.global, { rate: 2.5, burst: 3 });
  assert.equal(resolveConfig(text, project.file, { PORT: "8080", RATE: "1" }).server.port, 8080);
});

Deno.test("resolveConfig() keeps expanded text a string where a string is wanted", async () => {
  await using project = await makeProject();
  const config = resolveConfig(
    "service:\n  version: ${VERSION}\nregistry:\n  prefix: a/$${B}\n",
    project.file,
    { VERSION: "1.10" },
  );
  assert.equal(config.service.version, "1.10");
  assert.equal(config.registry.prefix, "a/${B}");
  const escaped = issuesOf(() => resolveConfig("service:\n  name: a$${B}\n", project.file));
  assert.deepEqual(escaped.map((i) => i.message), [
    `expected a name of letters, digits, ".", "_" or "-", got "a\${B}"`,
  ]);
});

Deno.test("resolveConfig() names an unset variable and where it is used", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() =>
    resolveConfig("registry:\n  endpoints:\n    - ${ETCD_URL}\n", project.file)
  );
  assert.deepEqual(issues, [{
    file: project.file,
    where: "registry.endpoints[0]",
    line: 3,
    column: 7,
    message:
      `environment variable "ETCD_URL" is not set (write \${ETCD_URL:-default} to give a default)`,
  }]);
});

Deno.test("resolveConfig() does not coerce strings that were written quoted", async () => {
  await using project = await makeProject();
  const issues = issuesOf(() => resolveConfig(`admin:\n  enabled: "true"\n`, project.file));
  assert.deepEqual(issues.map((i) => i.message), [
    `expected true or false, got "true" (remove the quotes)`,
  ]);
});
