import assert from "node:assert/strict";
import { releasableMappingsOf } from "./executable_pages.ts";

const EXE = "/opt/deno dir/deno";
/** One mapping of /proc/self/smaps: its header, then the fields that matter here. */
const mapping = (header: string, anonymousKiB: number) =>
  [header, "Size:              10944 kB", "Rss:               10240 kB"].concat(
    `Anonymous:          ${anonymousKiB} kB`,
    "VmFlags: rd mr mw me sd",
  );
const SMAPS = [
  ...mapping(`5591a7f77000-5591aa82d000 r--p 00000000 fe:00 5309340          ${EXE}`, 0),
  ...mapping(`5591aa82e000-5591ae3d2000 r-xp 028b6000 fe:00 5309340          ${EXE}`, 0),
  // Relocated read-only data (RELRO): this process's own pages; unmapping them would lose them.
  ...mapping(`5591ae3d2000-5591ae623000 r--p 06459000 fe:00 5309340          ${EXE}`, 2372),
  ...mapping(`5591ae623000-5591ae633000 rw-p 066a9000 fe:00 5309340          ${EXE}`, 0),
  ...mapping("7f2448000000-7f2448021000 rw-p 00000000 00:00 0 ", 132),
  ...mapping("7f244c000000-7f244c028000 r--p 00000000 fe:00 123       /usr/lib/libc.so.6", 0),
  ...mapping(`7f244bdc0000-7f244bfe1000 r-xp 03f19000 fe:00 5309340    ${EXE} (deleted)`, 0),
  // Deno's SQLite caches: read-only shared mappings, pages of the file only.
  ...mapping(
    "7f2457a00000-7f2457fb9000 r--s 00000000 fe:00 777    /root/.cache/deno/v8_code_cache_v2",
    0,
  ),
  // Their write-ahead index is written through the mapping: kept.
  ...mapping(
    "7f2464b5d000-7f2464b65000 rw-s 00000000 fe:00 778    /root/.cache/deno/v8_code_cache_v2-shm",
    0,
  ),
  ...mapping("7f2464b66000-7f2464b67000 r--s 00000000 00:00 0 ", 0),
  "",
].join("\n");

Deno.test("the executable's read-only mappings that hold no page of their own, and read-only shared files", () => {
  const caches = { start: 0x7f2457a00000n, length: 0x7f2457fb9000n - 0x7f2457a00000n };
  assert.deepEqual(releasableMappingsOf(SMAPS, EXE), [
    { start: 0x5591a7f77000n, length: 0x5591aa82d000n - 0x5591a7f77000n },
    { start: 0x5591aa82e000n, length: 0x5591ae3d2000n - 0x5591aa82e000n },
    caches,
  ]);
  assert.deepEqual(releasableMappingsOf(SMAPS, "/usr/bin/other"), [caches]);
});

const MiB = 1024 * 1024;

/** How much of `file` is in the page cache (util-linux's fincore), or null without fincore. */
async function cachedBytes(file: string): Promise<number | null> {
  const out = await new Deno.Command("fincore", { args: ["--bytes", "--noheadings", file] })
    .output().catch(() => null);
  if (!out?.success) return null;
  return Number(new TextDecoder().decode(out.stdout).trim().split(/\s+/)[0]);
}

Deno.test({
  name:
    "a process that unmaps its executable holds fewer of its pages, keeps working, and leaves them cached",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // A copy of deno of its own, so that the page-cache check below sees only this process.
    const dir = await Deno.makeTempDir({ prefix: "svc-pages-" });
    try {
      const exe = `${dir}/deno`;
      await Deno.copyFile(Deno.execPath(), exe);
      // Written back, so its cached pages are clean: ones the kernel could evict.
      {
        using file = await Deno.open(exe);
        await file.sync();
      }
      const cachedBefore = await cachedBytes(exe);
      const script = `
        import { releaseExecutablePages } from ${
        JSON.stringify(import.meta.resolve("./executable_pages.ts"))
      };
        // Timer turns while it runs: it unmaps in pieces and lets the loop serve in between.
        let turns = 0;
        const ticker = setInterval(() => turns++, 0);
        const result = await releaseExecutablePages();
        clearInterval(ticker);
        // Work after it: code that was paged out comes back on first touch.
        const sum = [...Array(1000).keys()].map((i) => JSON.stringify({ i })).length;
        console.log(JSON.stringify({ ...result, sum, turns }));`;
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
      assert.equal(result.refused, 0);
      // Tens of MiB in 8 MiB pieces, a timer turn after each: the loop was never held for all of it.
      assert.ok(result.turns >= result.advisedMiB / 8 - 1, JSON.stringify(result));
      assert.ok(result.pauseMs <= result.tookMs, JSON.stringify(result));
      // Unmapped, not evicted (MADV_PAGEOUT evicted ~40 MiB of it): the next start of the
      // binary finds its pages in the page cache, not on disk.
      const cachedAfter = await cachedBytes(exe);
      if (cachedBefore !== null && cachedAfter !== null) {
        assert.ok(
          cachedAfter > cachedBefore - MiB,
          `cached ${cachedBefore} → ${cachedAfter} bytes`,
        );
      }
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
      `import { releaseExecutablePages } from ${
        JSON.stringify(import.meta.resolve("./executable_pages.ts"))
      };
      console.log(JSON.stringify(await releaseExecutablePages()));`,
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
