import assert from "node:assert/strict";
import { parseLdd, sharedLibraries } from "./ldd.ts";

const DENO_LDD = `	linux-vdso.so.1 (0x00007ffd4b5f2000)
	libdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f81ae245000)
	libgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f81ae225000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f81a781e000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f81ae25d000)
`;

Deno.test("parseLdd() lists libraries and the loader, not the vDSO", () => {
  assert.deepEqual(parseLdd(DENO_LDD), [
    "/lib/x86_64-linux-gnu/libdl.so.2",
    "/lib/x86_64-linux-gnu/libgcc_s.so.1",
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/lib64/ld-linux-x86-64.so.2",
  ]);
});

Deno.test("parseLdd() gives nothing for a static binary and throws for a missing library", () => {
  assert.deepEqual(parseLdd("\tstatically linked\n"), []);
  assert.throws(
    () => parseLdd("\tlibssl.so.3 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n"),
    /libraries not found: libssl\.so\.3/,
  );
});

Deno.test("sharedLibraries() finds glibc and the loader for the deno binary", async () => {
  const libraries = await sharedLibraries(Deno.execPath());
  assert.ok(libraries.some((l) => /\/libc\.so\.6$/.test(l)), libraries.join(", "));
  assert.ok(libraries.some((l) => /\/ld-linux[^/]*\.so\.\d$/.test(l)), libraries.join(", "));
});
