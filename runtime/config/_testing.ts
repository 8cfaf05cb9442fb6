/**
 * A throwaway project directory for config tests: `proto/` and `handlers/`
 * exist (so defaults resolve), plus any extra files asked for.
 * @module
 */

import { dirname, join } from "node:path";
import { UserInputError } from "../core/errors.ts";
import type { Issue } from "../core/errors.ts";

/** A temp project; `await using` removes it. */
export interface TestProject extends AsyncDisposable {
  /** Absolute project directory. */
  dir: string;
  /** `<dir>/svc.yaml` (not written unless asked). */
  file: string;
}

/**
 * Creates a temp dir with `proto/` and `handlers/`, and `files` (relative
 * path → content; a trailing `/` makes a directory).
 *
 * @example
 * ```ts
 * import { makeProject } from "./_testing.ts";
 * await using project = await makeProject({ "certs/server.pem": "x" });
 * ```
 */
export async function makeProject(files: Record<string, string> = {}): Promise<TestProject> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "svc_config_" }));
  for (const [name, content] of Object.entries({ "proto/": "", "handlers/": "", ...files })) {
    const target = join(dir, name);
    if (name.endsWith("/")) {
      await Deno.mkdir(target, { recursive: true });
      continue;
    }
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeTextFile(target, content);
  }
  return {
    dir,
    file: join(dir, "svc.yaml"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * Runs `fn`, expects a config UserInputError, and returns its issues.
 *
 * @example
 * ```ts
 * import { issuesOf } from "./_testing.ts";
 * import { UserInputError } from "../core/errors.ts";
 * issuesOf(() => {
 *   throw new UserInputError("config", [{ file: "svc.yaml", message: "file not found" }]);
 * }); // [{ file: "svc.yaml", message: "file not found" }]
 * ```
 */
export function issuesOf(fn: () => unknown): readonly Issue[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof UserInputError) return error.issues;
    throw error;
  }
  throw new Error("expected a UserInputError, but nothing was thrown");
}
