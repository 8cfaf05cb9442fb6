import assert from "node:assert/strict";
import { readOnlyMappingsOf } from "./executable_pages.ts";

const EXE = "/opt/deno dir/deno";
const MAPS = [
  `5591a7f77000-5591aa82d000 r--p 00000000 fe:00 5309340                    ${EXE}`,
  `5591aa82e000-5591ae3d2000 r-xp 028b6000 fe:00 5309340                    ${EXE}`,
  `5591ae623000-5591ae633000 rw-p 066a9000 fe:00 5309340                    ${EXE}`,
  "7f2448000000-7f2448021000 rw-p 00000000 00:00 0 ",
  "7f244c000000-7f244c028000 r--p 00000000 fe:00 123                        /usr/lib/libc.so.6",
  `7f244bdc0000-7f244bfe1000 r-xp 03f19000 fe:00 5309340                    ${EXE} (deleted)`,
  "",
].join("\n");

Deno.test("the executable's read-only mappings: not its writable ones, not other files", () => {
  assert.deepEqual(readOnlyMappingsOf(MAPS, EXE), [
    { start: 0x5591a7f77000n, length: 0x5591aa82d000n - 0x5591a7f77000n },
    { start: 0x5591aa82e000n, length: 0x5591ae3d2000n - 0x5591aa82e000n },
  ]);
  assert.deepEqual(readOnlyMappingsOf(MAPS, "/usr/bin/other"), []);
});

const linux54 = (() => {
  if (Deno.build.os !== "linux") return false;
  const [major, minor] = Deno.osRelease().split(".").map(Number);
  return major > 5 || (major === 5 && minor >= 4);
})();

Deno.test({
  name: "a process that pages out its executable holds fewer of its pages, and keeps working",
  ignore: !linux54,
  async fn() {
    // A copy of deno of its own: the kernel leaves alone pages another process maps too, and
    // this test's own deno maps the same file.
    const dir = await Deno.makeTempDir({ prefix: "svc-pages-" });
    try {
      const exe = `${dir}/deno`;
      await Deno.copyFile(Deno.execPath(), exe);
      const script = `
        import { pageOutExecutable } from ${
        JSON.stringify(import.meta.resolve("./executable_pages.ts"))
      };
        const result = pageOutExecutable();
        // Work after it: code that was paged out comes back on first touch.
        const sum = [...Array(1000).keys()].map((i) => JSON.stringify({ i })).length;
        console.log(JSON.stringify({ ...result, sum }));`;
      const out = await new Deno.Command(exe, {
        args: ["eval", script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const result = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(result.skipped, undefined, result.skipped);
      assert.equal(result.sum, 1000);
      const [before, after] = result.rssFileMiB;
      assert.ok(result.advisedMiB > 10, `advised ${result.advisedMiB} MiB`);
      assert.ok(after < before - 10, `file-backed RSS ${before} → ${after} MiB`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("without FFI permission (a compiled binary) it skips, and says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svc-pages-" });
  try {
    // `deno eval` would grant every permission; `deno run` grants none.
    const script = `${dir}/main.ts`;
    await Deno.writeTextFile(
      script,
      `import { pageOutExecutable } from ${
        JSON.stringify(import.meta.resolve("./executable_pages.ts"))
      };
      console.log(JSON.stringify(pageOutExecutable()));`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(result.skipped, Deno.build.os === "linux" ? "no FFI permission" : "not Linux");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
