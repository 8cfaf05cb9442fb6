import assert from "node:assert/strict";
import { listEntries } from "./entries.ts";
import { markdownReference, renderConfigReference } from "./reference.ts";
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

Deno.test("renderConfigReference() matches the table in docs/config.md", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/config.md", import.meta.url));
  const normalize = (text: string) => text.replace(/ +/g, " ").replace(/-{3,}/g, "---").trim();
  const table = markdownReference(doc);
  assert.ok(table !== null, "docs/config.md has the config-reference markers");
  assert.equal(
    normalize(table),
    normalize(renderConfigReference()),
    "docs/config.md's config table is stale; run: deno run -A runtime/config/reference.ts docs/config.md",
  );
});
