import assert from "node:assert/strict";
import { SVC_V8_FLAGS, v8FlagsArgument } from "./v8_flags.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("deno task svc and deno task install pass svc's V8 flags", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  for (const name of ["svc", "install"]) {
    assert.ok(
      (tasks[name] as string).split(" ").includes(v8FlagsArgument()),
      `deno.json's ${name} task: ${tasks[name]}`,
    );
  }
  assert.equal(v8FlagsArgument(), `--v8-flags=${SVC_V8_FLAGS.join(",")}`);
});
