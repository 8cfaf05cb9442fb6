import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { loadConfig } from "../../config/mod.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { makeProject } from "../../config/_testing.ts";
import { commonDirectory, containerConfig } from "./container_config.ts";

const PROTO = (pkg: string, imports = "") =>
  `syntax = "proto3";\npackage ${pkg};\n${imports}\nmessage M { string s = 1; }\n`;

Deno.test("commonDirectory() is the deepest shared directory", () => {
  assert.equal(commonDirectory(["/a/b/c", "/a/b/d/e"]), "/a/b");
  assert.equal(commonDirectory(["/a/b"]), "/a/b");
  assert.equal(commonDirectory(["/a", "/b"]), "/");
});

Deno.test("containerConfig() copies the loaded and dependency protos with their layout and rewrites the paths", async () => {
  await using project = await makeProject({
    "conf/svc.yaml": [
      "# my service",
      "service: { name: shop } # keep me",
      "protos:",
      "  files: [../proto/shop, ../extra/one.proto]",
      "  includePaths: [../vendor]",
      "handlers: ../handlers",
      "middleware: [../mw.ts]",
      "clientMiddleware: [../mw.ts]",
      "dependencies:",
      "  dep.Backend: { protos: [../deps/backend.proto] }",
      "",
    ].join("\n"),
    "proto/shop/cart.proto": PROTO("shop", 'import "common/money.proto";'),
    "vendor/common/money.proto": PROTO("common"),
    "vendor/unused/other.proto": PROTO("unused"),
    "extra/one.proto": PROTO("one", 'import "two.proto";'),
    "extra/two.proto": PROTO("two"),
    "mw.ts": "export default [];",
    "deps/backend.proto":
      'syntax = "proto3";\npackage dep;\nmessage M {}\nservice Backend { rpc A(M) returns (M); }\n',
  });
  const file = join(project.dir, "conf", "svc.yaml");
  const config = await loadConfig(file, { env: {} });
  const image = await containerConfig(config, await Deno.readTextFile(file));

  assert.deepEqual(image.copies.map((c) => c.to).sort(), [
    "proto/deps/backend.proto",
    "proto/extra/one.proto",
    "proto/extra/two.proto",
    "proto/proto/shop/cart.proto",
    "proto/vendor/common/money.proto",
  ]);
  for (const copy of image.copies) assert.ok(copy.from.startsWith(project.dir), copy.from);
  const yaml = parse(image.yaml);
  assert.deepEqual(yaml.protos, {
    files: ["proto/proto/shop", "proto/extra/one.proto"],
    includePaths: ["proto/vendor"],
  });
  assert.equal(yaml.handlers, "handlers");
  assert.deepEqual(yaml.middleware, []);
  assert.deepEqual(yaml.clientMiddleware, []);
  assert.deepEqual(yaml.dependencies["dep.Backend"].protos, ["proto/deps/backend.proto"]);
  assert.equal(yaml.service.name, "shop");
  assert.match(image.yaml, /# keep me/);
  assert.match(image.yaml, /^# Rewritten by svc build/);
  assert.deepEqual(image.dirs.sort(), ["handlers", "proto/proto/shop", "proto/vendor"]);

  // The rewritten config resolves in a directory laid out as the image is.
  await using imageDir = await makeProject({});
  for (const dir of image.dirs) await Deno.mkdir(join(imageDir.dir, dir), { recursive: true });
  for (const { from, to } of image.copies) {
    await Deno.mkdir(join(imageDir.dir, to, ".."), { recursive: true });
    await Deno.copyFile(from, join(imageDir.dir, to));
  }
  const resolved = resolveConfig(image.yaml, join(imageDir.dir, "config.yaml"), {});
  const again = await containerConfig(resolved, image.yaml);
  assert.deepEqual(
    again.copies.map((c) => c.to).sort(),
    image.copies.map((c) => c.to).sort(),
    "the image's protos load the same files",
  );
});
