/**
 * The `_types.ts` files the demo and examples use are what `svc types`
 * writes today, and the handlers type-check against them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../runtime/config/mod.ts";
import { generateTypes, loadProtos } from "../runtime/protos/mod.ts";
import { ROOT } from "./_harness.ts";

const CONFIGS = [
  "config/svc.yaml",
  "examples/routeguide/svc.yaml",
  "examples/interop/svc.yaml",
];

for (const file of CONFIGS) {
  Deno.test(`svc types output for ${file} is up to date`, async () => {
    const config = await loadConfig(join(ROOT, file));
    const expected = generateTypes(await loadProtos(config.protos));
    const actual = await Deno.readTextFile(join(config.handlers, "_types.ts"));
    assert.equal(actual, expected, `stale; run: deno task svc types ${file}`);
  });
}

Deno.test("the typed demo and example handlers pass deno check", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "handlers/", "examples/"],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
});
