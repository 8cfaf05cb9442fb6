import assert from "node:assert/strict";
import { join } from "node:path";
import { discoverHandlerFiles, isHandlerFileName } from "./discover.ts";

Deno.test("isHandlerFileName() skips helpers, tests and declarations", () => {
  assert.ok(isHandlerFileName("greeter.ts"));
  assert.ok(isHandlerFileName("greeter.js"));
  for (
    const name of [
      "_types.ts",
      "_middleware.ts",
      "greeter_test.ts",
      "a.test.ts",
      "x.d.ts",
      "notes.md",
    ]
  ) {
    assert.equal(isHandlerFileName(name), false, name);
  }
});

Deno.test("discoverHandlerFiles() lists top-level handler files in name order and imports them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "b.ts"), "export default 2;");
    await Deno.writeTextFile(join(dir, "a.ts"), "export default 1;");
    await Deno.writeTextFile(join(dir, "_helper.ts"), "export default 0;");
    await Deno.mkdir(join(dir, "lib"));
    await Deno.writeTextFile(join(dir, "lib", "c.ts"), "export default 3;");
    const sources = await discoverHandlerFiles(dir);
    assert.deepEqual(sources.map((s) => s.file), [join(dir, "a.ts"), join(dir, "b.ts")]);
    assert.equal((await sources[0].load()).default, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
