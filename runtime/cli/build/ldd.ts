/**
 * The shared libraries a binary links, as `ldd` lists them: what a
 * `FROM scratch` image must carry next to the binary for it to start.
 * @module
 */

/**
 * Parses `ldd` output into absolute library paths, the dynamic loader
 * included, in ldd's order. The kernel's vDSO has no file and is skipped; a
 * statically linked binary gives `[]`.
 *
 * @throws {Error} naming every library ldd reports as `not found`
 *
 * @example
 * ```ts
 * parseLdd("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n\t/lib64/ld-linux-x86-64.so.2 (0x7f)\n");
 * // ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]
 * ```
 */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  const missing: string[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (line === "" || /statically linked/.test(line)) continue;
    const arrow = /^(\S+)\s+=>\s+(.*)$/.exec(line);
    const target = (arrow ? arrow[2] : line).replace(/\s*\(0x[0-9a-f]+\)$/i, "").trim();
    if (arrow && target === "not found") missing.push(arrow[1]);
    else if (target.startsWith("/")) paths.push(target);
    // Anything else ("linux-vdso.so.1", "linux-gate.so.1") lives in the kernel.
  }
  if (missing.length) throw new Error(`ldd: libraries not found: ${missing.join(", ")}`);
  return [...new Set(paths)];
}

/**
 * Runs `ldd binary` and returns the libraries it links (see {@link parseLdd}).
 *
 * @example
 * ```ts ignore
 * await sharedLibraries(Deno.execPath());
 * // ["/lib/x86_64-linux-gnu/libdl.so.2", ..., "/lib64/ld-linux-x86-64.so.2"]
 * ```
 */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command("ldd", {
    args: [binary],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  // ldd exits 1 for "not a dynamic executable": a static binary needs no libraries.
  if (code !== 0 && /not a dynamic executable/.test(new TextDecoder().decode(stderr) + text)) {
    return [];
  }
  if (code !== 0) throw new Error(`ldd ${binary} failed: ${new TextDecoder().decode(stderr)}`);
  return parseLdd(text);
}
