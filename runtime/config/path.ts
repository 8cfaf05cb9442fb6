/**
 * YAML paths (`server.keepalive.time`): how the config code names a key in
 * issues and suggestions.
 * @module
 */

/** A YAML path: keys and list indexes. */
export type Path = readonly (string | number)[];

/**
 * Formats a path as `server.keepalive.time`, `protos.files[0]` or
 * `rateLimit.perMethod["/pkg.Svc/Call"]`.
 *
 * @example
 * ```ts
 * import { formatPath } from "./path.ts";
 * formatPath(["protos", "files", 0]); // "protos.files[0]"
 * ```
 */
export function formatPath(path: Path): string {
  let out = "";
  for (const step of path) {
    if (typeof step === "number") out += `[${step}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(step)) out += out === "" ? step : `.${step}`;
    else out += `[${JSON.stringify(step)}]`;
  }
  return out;
}
