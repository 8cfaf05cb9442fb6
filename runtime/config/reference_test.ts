import assert from "node:assert/strict";
import { listEntries } from "./entries.ts";
import { renderConfigReference } from "./reference.ts";
import { configSchema } from "./schema.ts";

Deno.test("renderConfigReference() renders a row for every key", () => {
  const table = renderConfigReference();
  for (const entry of listEntries(configSchema)) {
    if (entry.field.kind === "object" && entry.field.default !== null) continue;
    assert.ok(table.includes(`| \`${entry.path.join(".")}\``), entry.path.join("."));
    if (entry.env) assert.ok(table.includes(`\`${entry.env.name}\``), entry.env.name);
  }
  assert.match(table, /^\| Key +\| Type +\| Default +\| Env var +\| Description +\|\n\| -+ \|/);
  assert.match(table, /\| `server.keepalive.time` +\| duration +\| `2h` +\|/);
});

Deno.test("renderConfigReference() matches the checked-in REFERENCE.md", async () => {
  const file = new URL("./REFERENCE.md", import.meta.url);
  const normalize = (text: string) => text.replace(/ +/g, " ").replace(/-{3,}/g, "---").trim();
  assert.equal(
    normalize(await Deno.readTextFile(file)),
    normalize(renderConfigReference()),
    "REFERENCE.md is stale; run: deno run runtime/config/reference.ts > runtime/config/REFERENCE.md",
  );
});
