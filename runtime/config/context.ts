/**
 * The state shared while resolving one config: where it lives and the issues
 * found so far.
 * @module
 */

import type { Issue } from "../core/errors.ts";
import { formatPath, type Path } from "./path.ts";
import type { RawNode } from "./raw.ts";

/** Resolution state for one config file. */
export interface Context {
  /** Absolute config file path, used as every issue's `file`. */
  file: string;
  /** The config file's directory; relative paths resolve against it. */
  dir: string;
  /** Every problem found so far. */
  issues: Issue[];
  /** Every valid key path, to suggest `server.port` for a misplaced `port`. */
  keyPaths?: readonly Path[];
}

/**
 * Records an issue about the value at `path`. When `node` came from an env
 * var, `where` is that variable and there is no line; otherwise `where` is
 * the YAML path and the line/column are the node's.
 *
 * @example
 * ```ts
 * import { report } from "./context.ts";
 * const context = { file: "/app/svc.yaml", dir: "/app", issues: [] };
 * report(context, ["server", "port"], undefined, "expected a port number 0-65535, got \"x\"");
 * ```
 */
export function report(
  context: Context,
  path: Path,
  node: RawNode | undefined,
  message: string,
  origin = node?.origin,
): void {
  if (origin?.env) {
    context.issues.push({ file: context.file, where: origin.env, message });
    return;
  }
  const where = formatPath(path);
  context.issues.push({
    file: context.file,
    ...(where === "" ? {} : { where }),
    ...(origin?.line === undefined ? {} : { line: origin.line, column: origin.column }),
    message,
  });
}
