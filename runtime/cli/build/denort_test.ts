import assert from "node:assert/strict";
import { join } from "node:path";
import { denoDir, denortCachePath, denortMissingMessage, findDenort } from "./denort.ts";

Deno.test("denoDir() follows DENO_DIR, then the platform cache directory", () => {
  assert.equal(denoDir({ DENO_DIR: "/d", HOME: "/h" }, "linux"), "/d");
  assert.equal(denoDir({ HOME: "/h" }, "linux"), "/h/.cache/deno");
  assert.equal(denoDir({ HOME: "/h", XDG_CACHE_HOME: "/x" }, "linux"), "/x/deno");
  assert.equal(denoDir({ HOME: "/h" }, "darwin"), "/h/Library/Caches/deno");
});

Deno.test("denoDir() agrees with deno info", async () => {
  const { stdout } = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  assert.equal(denoDir(), JSON.parse(new TextDecoder().decode(stdout)).denoDir);
});

Deno.test("findDenort() prefers DENORT_BIN, then the cached zip, else null", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(findDenort({ DENO_DIR: dir }), null);
    const zip = denortCachePath({ DENO_DIR: dir });
    assert.equal(
      zip,
      join(dir, "dl", "release", `v${Deno.version.deno}`, `denort-${Deno.build.target}.zip`),
    );
    await Deno.mkdir(join(zip, ".."), { recursive: true });
    await Deno.writeTextFile(zip, "");
    assert.deepEqual(findDenort({ DENO_DIR: dir }), { path: zip, source: "cache" });
    assert.deepEqual(findDenort({ DENO_DIR: dir, DENORT_BIN: zip }), {
      path: zip,
      source: "DENORT_BIN",
    });
    assert.equal(findDenort({ DENO_DIR: dir, DENORT_BIN: join(dir, "nope") }), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denortMissingMessage() is one line naming DENORT_BIN", () => {
  const message = denortMissingMessage("dns error");
  assert.ok(!message.includes("\n"));
  assert.match(message, /\(dns error\).*set DENORT_BIN to a denort binary of Deno \d/);
});
