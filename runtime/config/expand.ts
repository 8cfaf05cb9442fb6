/**
 * Expands `${VAR}` and `${VAR:-default}` inside config string values.
 * @module
 */

/** The result of {@link expandVariables}. */
export interface Expansion {
  /** The text with every reference replaced. */
  value: string;
  /** True when at least one `${...}` reference was substituted. */
  expanded: boolean;
  /** Unset variables and malformed references; empty when all went well. */
  problems: string[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Replaces `${NAME}` with the variable's value and `${NAME:-fallback}` with the
 * value, or `fallback` when the variable is unset or empty. `$${` is a literal
 * `${`. An unset variable without a fallback is a problem, not an empty string.
 *
 * @example
 * ```ts
 * import { expandVariables } from "./expand.ts";
 * expandVariables("${HOST:-localhost}:${PORT}", { PORT: "80" }).value; // "localhost:80"
 * ```
 */
export function expandVariables(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): Expansion {
  let value = "";
  let expanded = false;
  const problems: string[] = [];
  let index = 0;
  while (index < text.length) {
    if (text.startsWith("$${", index)) {
      value += "${";
      index += 3;
      continue;
    }
    if (!text.startsWith("${", index)) {
      value += text[index++];
      continue;
    }
    const end = text.indexOf("}", index + 2);
    if (end < 0) {
      problems.push(`cannot expand "${text}": "\${" has no closing "}"`);
      break;
    }
    const inner = text.slice(index + 2, end);
    const match = REFERENCE.exec(inner);
    index = end + 1;
    if (!match) {
      problems.push(`cannot expand "\${${inner}}": expected \${NAME} or \${NAME:-default}`);
      continue;
    }
    const [, name, fallback] = match;
    const found = env[name];
    expanded = true;
    if (found !== undefined && (found !== "" || fallback === undefined)) value += found;
    else if (fallback !== undefined) value += fallback;
    else {
      problems.push(
        `environment variable "${name}" is not set (write \${${name}:-default} to give a default)`,
      );
    }
  }
  return { value, expanded, problems };
}
