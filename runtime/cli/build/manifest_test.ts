import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config/mod.ts";
import { makeProject } from "../../config/_testing.ts";
import { renderEntry } from "./entry.ts";
import { manifestFiles, moduleSpecifier, renderManifest, writeManifest } from "./manifest.ts";

const HANDLER = `export default { service: "x" };\n`;

Deno.test("writeManifest() imports every handler and middleware file, skipping helpers and tests", async () => {
  await using project = await makeProject({
    "handlers/b.ts": HANDLER,
    "handlers/a.js": HANDLER,
    "handlers/_helper.ts": HANDLER,
    "handlers/_types.ts": HANDLER,
    "handlers/_middleware.ts": HANDLER,
    "handlers/_client_middleware.ts": HANDLER,
    "handlers/b_test.ts": HANDLER,
    "handlers/c.test.ts": HANDLER,
    "handlers/d.d.ts": "",
    "handlers/notes.md": "",
    "handlers/lib/helper.ts": HANDLER,
    "mw/extra.ts": HANDLER,
    "mw/outgoing.ts": HANDLER,
    "svc.yaml":
      "handlers: handlers\nmiddleware: [mw/extra.ts]\nclientMiddleware: [mw/outgoing.ts]\n",
  });
  const config = await loadConfig(project.file, { env: {} });
  const written = await writeManifest(config, join(project.dir, "dist", "svc_manifest.ts"));
  const h = (name: string) => join(project.dir, "handlers", name);
  assert.deepEqual(written.handlers, [h("a.js"), h("b.ts")]);
  assert.deepEqual(written.middleware, [h("_middleware.ts"), join(project.dir, "mw", "extra.ts")]);
  assert.deepEqual(written.clientMiddleware, [
    h("_client_middleware.ts"),
    join(project.dir, "mw", "outgoing.ts"),
  ]);

  const text = await Deno.readTextFile(written.file);
  const imports = [...text.matchAll(/import\("([^"]+)"\)/g)].map((m) => m[1]);
  assert.deepEqual(imports, [
    "../handlers/a.js",
    "../handlers/b.ts",
    "../handlers/_middleware.ts",
    "../mw/extra.ts",
    "../handlers/_client_middleware.ts",
    "../mw/outgoing.ts",
  ]);
  assert.match(text, new RegExp(`file: "${h("b.ts")}"`), "file keeps the original path");
  for (const skipped of ["_helper", "_types", "b_test", "c.test", "d.d.ts", "notes", "lib/"]) {
    assert.ok(!text.includes(skipped), `${skipped} is not imported`);
  }
});

Deno.test("renderManifest() writes empty lists when there is nothing to import", () => {
  const text = renderManifest(
    { handlers: [], middleware: [], clientMiddleware: [] },
    "/p/dist/m.ts",
  );
  assert.match(text, /handlerSources: HandlerSource\[\] = \[\];/);
  assert.match(text, /middlewareSources: HandlerSource\[\] = \[\];/);
  assert.match(text, /clientMiddlewareSources: HandlerSource\[\] = \[\];/);
});

Deno.test("moduleSpecifier() is relative, POSIX and percent-encodes odd names", () => {
  assert.equal(moduleSpecifier("/p/dist/m.ts", "/p/handlers/a.ts"), "../handlers/a.ts");
  assert.equal(moduleSpecifier("/p/m.ts", "/p/handlers/a.ts"), "./handlers/a.ts");
  assert.equal(moduleSpecifier("/p/m.ts", "/p/my dir/a#1.ts"), "./my%20dir/a%231.ts");
  assert.equal(moduleSpecifier("/p/m.ts", "file:///q/a.ts"), "../q/a.ts");
  assert.equal(
    moduleSpecifier("/p/m.ts", "https://example.com/runtime/cli/main.ts"),
    "https://example.com/runtime/cli/main.ts",
  );
});

Deno.test("manifestFiles() lists nothing for an empty handlers directory", async () => {
  await using project = await makeProject({ "svc.yaml": "" });
  const files = await manifestFiles(await loadConfig(project.file, { env: {} }));
  assert.deepEqual(files, { handlers: [], middleware: [], clientMiddleware: [] });
});

Deno.test("renderEntry() runs the CLI main with the manifest's sources", () => {
  const text = renderEntry("/p/dist/svc_entry.ts", "/p/dist/svc_manifest.ts");
  assert.match(text, /import \{ main \} from "\.\.\/.*runtime\/cli\/main\.ts";/);
  assert.match(text, /from "\.\/svc_manifest\.ts";/);
  assert.match(
    text,
    /\{ handlerSources, middlewareSources, clientMiddlewareSources, readPaths, manifest \}/,
  );
  // Workers (server.workers) import the same manifest by URL.
  assert.match(text, /new URL\("\.\/svc_manifest\.ts", import\.meta\.url\)\.href/);
  assert.match(text, /main\(Deno\.args, sources\)/);
});
