/**
 * Turns Deno's multi-line import errors into one issue line with a location.
 * @module
 */
import { fileURLToPath } from "node:url";
import type { Issue } from "../core/errors.ts";

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const LOCATION = /at (file:\/\/\S+?):(\d+):(\d+)/;

/**
 * An issue for a module that failed to import: the first line of the
 * reason, at the line and column Deno reports (when the error is in `file`
 * itself), or naming the other file it came from.
 */
export function importIssue(file: string, error: unknown): Issue {
  const text = (error instanceof Error ? error.message : String(error)).replace(ANSI, "");
  const reason = text.split("\n")[0].trim();
  const at = text.match(LOCATION);
  if (!at) return { file, message: `cannot be imported: ${reason}` };
  const where = fileURLToPath(at[1]);
  if (where === file) {
    return {
      file,
      line: Number(at[2]),
      column: Number(at[3]),
      message: `cannot be imported: ${reason}`,
    };
  }
  return { file, message: `cannot be imported: ${reason} (at ${where}:${at[2]}:${at[3]})` };
}
