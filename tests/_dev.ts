/**
 * Helpers for the `svc dev` tests and the reload memory benchmark: a fresh
 * copy of tests/fixtures/dev per test, a real `svc dev` process on it with
 * JSON logs, and a bounded poll. Not a test file.
 *
 * @example
 * ```ts ignore
 * await using fixture = await copyDevFixture();
 * await using svc = await startDev(fixture.dir);
 * await fixture.write("handlers/echo.ts", source.replace("v1", "v2"));
 * await until(() => svc.logs().some((l) => l.msg === "reloaded"), "the reload line");
 * ```
 * @module
 */
import { join } from "node:path";
import { MAIN_TS, ROOT, TEST_TRANSPORT } from "./_harness.ts";
import { type ServerProcess, spawnServer } from "./_spawn.ts";

/** The fixture every copy starts from. */
export const DEV_FIXTURE: string = join(ROOT, "tests/fixtures/dev");

/** A temporary copy of the fixture; disposing removes it. */
export interface DevFixture extends AsyncDisposable {
  readonly dir: string;
  readonly config: string;
  /** Reads a file of the copy, by path relative to it. */
  read(path: string): Promise<string>;
  /** Writes a file of the copy, by path relative to it. */
  write(path: string, text: string): Promise<void>;
  /** Removes a file of the copy. */
  remove(path: string): Promise<void>;
}

/** Copies tests/fixtures/dev to a new temporary directory. */
export async function copyDevFixture(): Promise<DevFixture> {
  const dir = await Deno.makeTempDir({ prefix: "svc-dev-" });
  await copyTree(DEV_FIXTURE, dir);
  return {
    dir,
    config: join(dir, "svc.yaml"),
    read: (path) => Deno.readTextFile(join(dir, path)),
    write: (path, text) => Deno.writeTextFile(join(dir, path), text),
    remove: (path) => Deno.remove(join(dir, path)),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * Starts `deno run -A main.ts ARGS` (default `dev <dir>/svc.yaml`) from the
 * repository root with JSON logs, and resolves once it serves.
 */
export function startDev(
  dir: string,
  options: { args?: string[]; env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    NO_COLOR: "1",
    // The tests read the log lines; a developer would see pretty ones.
    SVC_LOGGING_FORMAT: "json",
    ...(Deno.env.get("SVC_TEST_TRANSPORT") ? { SVC_SERVER_TRANSPORT: TEST_TRANSPORT } : {}),
    ...options.env,
  };
  const args = options.args ?? ["dev", join(dir, "svc.yaml")];
  return spawnServer(Deno.execPath(), ["run", "-A", MAIN_TS, ...args], { env, cwd: ROOT });
}

/**
 * Polls `check` every 25 ms until it returns a value other than
 * undefined/false; rejects naming `what` after `timeoutMs` (default 10 s).
 */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${what} within ${timeoutMs} ms${last ? `; last error: ${last}` : ""}`);
}

/** Resident set size of `pid` in bytes (Linux /proc). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = status.match(/^VmRSS:\s+(\d+) kB/m);
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

async function copyTree(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory) {
      await Deno.mkdir(target);
      await copyTree(source, target);
    } else {
      await Deno.copyFile(source, target);
    }
  }
}
