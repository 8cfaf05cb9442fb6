import assert from "node:assert/strict";
import { join } from "node:path";
import { UserInputError } from "../core/errors.ts";
import { loadConfig } from "./load.ts";
import { makeProject } from "./_testing.ts";

Deno.test("loadConfig() reads the file and applies the given env", async () => {
  await using project = await makeProject();
  await Deno.writeTextFile(project.file, "server:\n  port: ${PORT}\n");
  const config = await loadConfig(project.file, {
    env: { PORT: "7000", SVC_LOGGING_FORMAT: "pretty" },
  });
  assert.equal(config.file, project.file);
  assert.equal(config.server.port, 7000);
  assert.equal(config.logging.format, "pretty");
});

Deno.test("loadConfig() reports a missing file as one issue", async () => {
  await using project = await makeProject();
  const missing = join(project.dir, "nope.yaml");
  await assert.rejects(loadConfig(missing, { env: {} }), (error: unknown) => {
    assert.ok(error instanceof UserInputError);
    assert.deepEqual(error.issues, [{ file: missing, message: "file not found" }]);
    assert.equal(error.message, `config: 1 problem\n${missing}: file not found`);
    return true;
  });
});

Deno.test("loadConfig() reports a directory given as the config file", async () => {
  await using project = await makeProject();
  await assert.rejects(
    loadConfig(project.dir, { env: {} }),
    (error: unknown) =>
      error instanceof UserInputError &&
      error.issues[0].message === "is a directory, expected a YAML file",
  );
});
