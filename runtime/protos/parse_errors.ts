/**
 * Turns protobufjs's parse and resolve errors into {@link Issue}s with a
 * readable message and, where it can be found, the line in the source.
 * @module
 */
import type protobuf from "protobufjs";
import type { Issue } from "../core/errors.ts";

/** A loaded file as the error helpers see it. */
export interface SourceText {
  /** Path shown to the user. */
  path: string;
  /** The file's name as objects' `filename` carries it. */
  name: string;
  text: string;
}

/**
 * Describes an error `protobuf.parse()` threw for `file`. `root` is used to
 * name where a duplicate definition was first declared; `pathOf` maps a
 * loaded file's name to the path shown to the user.
 */
export function parseErrorIssue(
  error: unknown,
  file: SourceText,
  root: protobuf.Root,
  pathOf: (name: string) => string,
): Issue {
  const raw = error instanceof Error ? error.message : String(error);
  const lineMatch = /\s*\((?:[^()]*, )?line (\d+)\)\s*$/.exec(raw);
  if (lineMatch) {
    const message = raw.slice(0, lineMatch.index);
    return { file: file.path, line: Number(lineMatch[1]), message: `syntax error: ${message}` };
  }
  const dup = /^duplicate name '([^']+)' in (Namespace|Type|Enum|Service) \.?(.*)$/.exec(raw);
  if (dup) return _duplicateIssue(dup[1], dup[2], dup[3], file, root, pathOf);
  return { file: file.path, message: _readable(raw) };
}

function _duplicateIssue(
  name: string,
  kind: string,
  parent: string,
  file: SourceText,
  root: protobuf.Root,
  pathOf: (name: string) => string,
): Issue {
  if (kind === "Namespace") {
    const fullName = parent ? `${parent}.${name}` : name;
    const existing = root.lookup(fullName);
    const sameFile = !existing?.filename || existing.filename === file.name;
    const where = sameFile ? "earlier in this file" : `in ${pathOf(existing.filename ?? "")}`;
    const decl = new RegExp(`\\b(message|enum|service|extend)\\s+${_escape(name)}\\b`, "g");
    return {
      file: file.path,
      line: findLine(file.text, decl, sameFile ? 2 : 1),
      where: fullName,
      message: `duplicate definition of ${fullName}: already defined ${where}`,
    };
  }
  const what = kind === "Enum" ? "enum value" : kind === "Service" ? "method" : "name";
  const container = kind === "Type" ? "message" : kind.toLowerCase();
  const pattern = kind === "Service"
    ? new RegExp(`\\brpc\\s+${_escape(name)}\\b`, "g")
    : new RegExp(`\\b${_escape(name)}\\s*=\\s*-?\\d`, "g");
  return {
    file: file.path,
    line: _countMatches(file.text, pattern) === 2 ? findLine(file.text, pattern, 2) : undefined,
    where: parent,
    message: `duplicate ${what} "${name}" in ${container} ${parent}`,
  };
}

/**
 * The 1-based line of the `occurrence`-th match of `pattern` (a global
 * RegExp) in `text`, skipping `//` and `/* *\/` comments; undefined when
 * there are fewer matches.
 *
 * @example
 * ```ts
 * findLine('syntax = "proto3";\nimport "a.proto";', /import\s+"a\.proto"/g); // 2
 * ```
 */
export function findLine(text: string, pattern: RegExp, occurrence = 1): number | undefined {
  const code = _blankComments(text);
  pattern.lastIndex = 0;
  let match: RegExpExecArray | null;
  let seen = 0;
  while ((match = pattern.exec(code)) !== null) {
    if (++seen === occurrence) return code.slice(0, match.index).split("\n").length;
    if (match[0] === "") pattern.lastIndex++;
  }
  return undefined;
}

function _countMatches(text: string, pattern: RegExp): number {
  return _blankComments(text).match(pattern)?.length ?? 0;
}

/** Replaces comments with spaces, keeping newlines so line numbers stay right. */
function _blankComments(text: string): string {
  return text.replace(
    /\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g,
    (m) => (m.startsWith("/") ? m.replace(/[^\n]/g, " ") : m),
  );
}

const KINDS: Record<string, string> = {
  Type: "message",
  Enum: "enum",
  Service: "service",
  Namespace: "package",
};

/** `... in Type .p.M` reads `... in message p.M`. */
function _readable(message: string): string {
  return message.replace(
    / in (Type|Enum|Service|Namespace) \.?/,
    (_, kind) => ` in ${KINDS[kind]} `,
  );
}

function _escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
