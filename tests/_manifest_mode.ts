/**
 * Manifest mode for the whole suite: with `SVC_TEST_ENTRY=manifest`, the
 * harness starts `svc run` and `svc check` from an entry module and manifest
 * generated for the config at start, instead of main.ts walking the
 * handlers directory. That is the code path of a built binary, so the
 * suite shows it serves what the directory walk serves. Not a test file;
 * imports nothing from the harness (which imports this).
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MANIFEST_FILE, writeEntry, writeManifest } from "../runtime/cli/build/mod.ts";
import { loadConfig } from "../runtime/config/mod.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

/** True when the suite runs with handlers from generated manifests (`SVC_TEST_ENTRY=manifest`). */
export const MANIFEST_MODE: boolean = Deno.env.get("SVC_TEST_ENTRY") === "manifest";

let _generated = 0;
// One directory per module instance: deno test loads this once per test file.
const _modeDir = join(ROOT, "dist", `manifest_mode_${crypto.randomUUID().slice(0, 8)}`);
globalThis.addEventListener("unload", () => {
  if (_generated > 0) Deno.removeSync(_modeDir, { recursive: true });
});

/**
 * The `deno` arguments the harness runs for svc CLI `args`: `run -A main.ts
 * ...args`, or, in manifest mode, `run -A <entry> ...args` with an entry and
 * manifest generated for the config at start (so the suite exercises the
 * code path of a built binary). Commands other than run/check, and configs
 * that do not load (the CLI must report those itself), use main.ts.
 * `options.manifest` overrides the mode (for this helper's own test).
 */
export async function svcDenoArgs(
  args: string[],
  options: { cwd: string; env: Record<string, string>; manifest?: boolean },
): Promise<string[]> {
  const dev = ["run", "-A", join(ROOT, "main.ts"), ...args];
  const [command, config = "config/svc.yaml"] = args;
  const manifest = options.manifest ?? MANIFEST_MODE;
  if (!manifest || !["run", "check"].includes(command) || args.length > 2) return dev;
  try {
    const loaded = await loadConfig(resolve(options.cwd, config), {
      env: { ...Deno.env.toObject(), ...options.env },
    });
    const dir = join(_modeDir, String(++_generated));
    await writeManifest(loaded, join(dir, MANIFEST_FILE));
    return ["run", "-A", await writeEntry(dir), ...args];
  } catch {
    return dev;
  }
}
