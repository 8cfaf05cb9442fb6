/**
 * A fast path for the YAML most svc configs are written in: block mappings
 * with plain keys, block sequences, one-line flow sequences and mappings
 * (`{ name: bench }`, nested too), plain and quoted one-line scalars,
 * comments. Anything else (anchors, tags, multi-line flows, multi-line or
 * escaped strings, quoted keys, duplicate keys, tabs, several
 * documents, a number in octal or hex...) returns null, and the caller parses
 * the text with the `yaml` package, which also words every syntax error.
 *
 * Why: the `yaml` package takes ~10 ms to parse config/svc.yaml on a cold
 * start (its code runs for the first time), this ~0.3 ms. Scalars resolve as
 * `yaml`'s default (YAML 1.2 core) schema does, and positions are `yaml`'s
 * (1-based line and column of each node's first character); a test compares
 * both on every config in the repository.
 * @module
 */

/** Where a node starts, 1-based as `yaml`'s LineCounter counts. */
export interface SimplePos {
  line: number;
  column: number;
}

/** A parsed node. */
export type SimpleNode =
  | { type: "scalar"; value: unknown; pos: SimplePos }
  | {
    type: "map";
    entries: { key: string; keyPos: SimplePos; value: SimpleNode | null }[];
    pos: SimplePos;
  }
  | { type: "seq"; items: SimpleNode[]; pos: SimplePos };

interface Line {
  /** 1-based line number. */
  line: number;
  /** Column (0-based) of the first content character. */
  indent: number;
  /** Content from `indent` on, comment and trailing spaces removed. */
  text: string;
  /** The whole line as written. */
  raw: string;
}

class Unsupported extends Error {}

/**
 * Parses `text` if it stays within the subset; null otherwise. An empty
 * document (only comments) gives a null scalar, as `yaml` does.
 *
 * @example
 * ```ts
 * import { parseSimpleYaml } from "./simple_yaml.ts";
 * parseSimpleYaml("server:\n  port: 50051\n"); // a map holding a map
 * parseSimpleYaml("a: &x 1\n"); // null: anchors are left to the yaml package
 * ```
 */
export function parseSimpleYaml(text: string): SimpleNode | null {
  try {
    const lines = _lines(text);
    if (lines.length === 0) return null;
    const parser = new _Parser(lines);
    const node = parser.block(0, lines[0].indent);
    if (parser.next < lines.length) return null;
    return node;
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
}

function _unsupported(): never {
  throw new Unsupported();
}

function _lines(text: string): Line[] {
  if (/[\t\r\uFEFF]/.test(text)) _unsupported();
  const lines: Line[] = [];
  const raw = text.split("\n");
  for (let i = 0; i < raw.length; i++) {
    const content = _stripComment(raw[i]);
    const trimmed = content.trimStart();
    if (trimmed === "") continue;
    const indent = content.length - trimmed.length;
    if (indent === 0 && /^(---|\.\.\.|%)/.test(trimmed)) _unsupported();
    lines.push({ line: i + 1, indent, text: trimmed.trimEnd(), raw: raw[i] });
  }
  return lines;
}

/** The line without its comment: `#` at the start or after a space, outside quotes. */
function _stripComment(line: string): string {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      // A quote opens a string only where a scalar may start.
      if (i === 0 || /[\s[{,:-]/.test(line[i - 1])) quote = c;
    } else if (c === "#" && (i === 0 || line[i - 1] === " ")) return line.slice(0, i);
  }
  return line;
}

const KEY = /^([A-Za-z0-9_][A-Za-z0-9_.\-\/]*):(?: +|$)/;

class _Parser {
  next = 0;
  constructor(private readonly lines: Line[]) {}

  /** The node whose lines start at `this.lines[i]`, all at `indent`. */
  block(i: number, indent: number): SimpleNode {
    this.next = i;
    const first = this.lines[i];
    if (first.indent !== indent) _unsupported();
    return first.text === "-" || first.text.startsWith("- ")
      ? this.sequence(indent)
      : this.mapping(indent);
  }

  private mapping(indent: number): SimpleNode {
    const first = this.lines[this.next];
    const entries: { key: string; keyPos: SimplePos; value: SimpleNode | null }[] = [];
    const seen = new Set<string>();
    while (this.next < this.lines.length) {
      const line = this.lines[this.next];
      if (line.indent < indent) break;
      if (line.indent > indent) _unsupported();
      const match = KEY.exec(line.text);
      if (!match) _unsupported();
      const key = match[1];
      if (seen.has(key)) _unsupported();
      seen.add(key);
      const keyPos = { line: line.line, column: line.indent + 1 };
      const rest = line.text.slice(match[0].length);
      this.next++;
      let value: SimpleNode | null;
      if (rest !== "") {
        value = _inline(rest, line.line, line.indent + match[0].length + 1);
        // A value continued on the next lines (a multi-line plain scalar).
        if (this.lines[this.next]?.indent > indent) _unsupported();
      } else {
        const below = this.lines[this.next];
        if (below && below.indent > indent) value = this.block(this.next, below.indent);
        else if (below && below.indent === indent && /^-( |$)/.test(below.text)) {
          value = this.block(this.next, indent);
        } else {
          // yaml places an empty value after the colon and the spaces after it.
          let at = line.indent + key.length + 1;
          while (line.raw[at] === " ") at++;
          value = { type: "scalar", value: null, pos: { line: line.line, column: at + 1 } };
        }
      }
      entries.push({ key, keyPos, value });
    }
    return { type: "map", entries, pos: { line: first.line, column: indent + 1 } };
  }

  private sequence(indent: number): SimpleNode {
    const first = this.lines[this.next];
    const items: SimpleNode[] = [];
    while (this.next < this.lines.length) {
      const line = this.lines[this.next];
      if (line.indent < indent) break;
      if (line.indent > indent || !/^-( |$)/.test(line.text)) break;
      const rest = line.text.slice(1).trimStart();
      const column = line.indent + (line.text.length - rest.length);
      if (rest === "") {
        // The item is the block below; an empty item is left to yaml.
        this.next++;
        const below = this.lines[this.next];
        if (!below || below.indent <= indent) _unsupported();
        items.push(this.block(this.next, below.indent));
      } else if (KEY.test(rest)) {
        // "- key: value": a mapping whose keys line up at `column`.
        this.lines[this.next] = { ...line, indent: column, text: rest };
        items.push(this.block(this.next, column));
      } else {
        if (/^-( |$)/.test(rest)) _unsupported();
        items.push(_inline(rest, line.line, column + 1));
        this.next++;
        if (this.lines[this.next]?.indent > indent) _unsupported();
      }
    }
    if (this.next < this.lines.length && this.lines[this.next].indent > indent) _unsupported();
    return { type: "seq", items, pos: { line: first.line, column: indent + 1 } };
  }
}

/** A value on the rest of a line starting at `column` (1-based). */
function _inline(text: string, line: number, column: number): SimpleNode {
  if (text.startsWith("[") || text.startsWith("{")) {
    const { node, end } = _flow(text, 0, line, column);
    if (end !== text.length) _unsupported();
    return node;
  }
  const { value, length } = _scalar(text, ",]}");
  if (length !== text.length) _unsupported();
  return { type: "scalar", value, pos: { line, column } };
}

/** A flow key: plain, then ": " (a colon with no space after it is part of a plain scalar in a flow). */
const FLOW_KEY = /^([A-Za-z0-9_][A-Za-z0-9_.\-\/]*): +/;

/**
 * The flow collection (`[a, b]` or `{ k: v, k2: [x] }`) that opens at
 * `text[start]` and closes on this line: its node and the index after it.
 * Items are scalars or flow collections; empty values, trailing commas,
 * quoted or duplicate keys are left to yaml.
 */
function _flow(
  text: string,
  start: number,
  line: number,
  column: number,
): { node: SimpleNode; end: number } {
  const close = text[start] === "[" ? "]" : "}";
  const pos = { line, column: column + start };
  const items: SimpleNode[] = [];
  const entries: { key: string; keyPos: SimplePos; value: SimpleNode | null }[] = [];
  const seen = new Set<string>();
  const node = (): SimpleNode =>
    close === "]" ? { type: "seq", items, pos } : { type: "map", entries, pos };
  let i = start + 1;
  const skipSpaces = () => {
    while (text[i] === " ") i++;
  };
  const value = (): SimpleNode => {
    if (text[i] === "[" || text[i] === "{") {
      const inner = _flow(text, i, line, column);
      i = inner.end;
      return inner.node;
    }
    const { value, length } = _scalar(text.slice(i), `,${close}`, true);
    if (length === 0) _unsupported();
    const scalar: SimpleNode = { type: "scalar", value, pos: { line, column: column + i } };
    i += length;
    return scalar;
  };
  skipSpaces();
  if (text[i] === close) return { node: node(), end: i + 1 };
  while (i < text.length) {
    skipSpaces();
    if (close === "}") {
      const match = FLOW_KEY.exec(text.slice(i));
      if (!match || seen.has(match[1])) _unsupported();
      seen.add(match[1]);
      const keyPos = { line, column: column + i };
      i += match[0].length;
      entries.push({ key: match[1], keyPos, value: value() });
    } else {
      items.push(value());
    }
    skipSpaces();
    if (text[i] === ",") {
      i++;
      skipSpaces();
      if (text[i] === close) _unsupported(); // a trailing comma: left to yaml
      continue;
    }
    if (text[i] === close) return { node: node(), end: i + 1 };
    _unsupported();
  }
  return _unsupported();
}

/**
 * A scalar at the start of `text`: its value and how many characters it
 * takes (trailing spaces of a plain scalar excluded).
 */
function _scalar(text: string, stops: string, inFlow = false): { value: unknown; length: number } {
  const c = text[0];
  if (c === '"') {
    const end = text.indexOf('"', 1);
    if (end < 0) _unsupported();
    const body = text.slice(1, end);
    if (body.includes("\\")) _unsupported();
    return { value: body, length: end + 1 };
  }
  if (c === "'") {
    let value = "";
    let i = 1;
    for (;;) {
      const end = text.indexOf("'", i);
      if (end < 0) _unsupported();
      value += text.slice(i, end);
      if (text[end + 1] === "'") {
        value += "'";
        i = end + 2;
        continue;
      }
      return { value, length: end + 1 };
    }
  }
  if (/^[&*!|>%@`{}[\]#,?:-]/.test(text) && !/^-[^\s\-]/.test(text)) _unsupported();
  let length = text.length;
  if (inFlow) {
    for (let i = 0; i < text.length; i++) {
      if (stops.includes(text[i])) {
        length = i;
        break;
      }
    }
  }
  const plain = text.slice(0, length).trimEnd();
  // ": " inside a plain value is a mapping yaml would reject or read otherwise.
  if (/: |:$/.test(plain) || (inFlow && /[{}[\]]/.test(plain))) _unsupported();
  return { value: _resolvePlain(plain), length: plain.length };
}

/** YAML 1.2 core schema, as `yaml` resolves plain scalars by default. */
function _resolvePlain(text: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(text)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(text)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(text)) return false;
  if (/^[-+]?[0-9]+$/.test(text)) return parseInt(text, 10);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(text)) {
    return parseFloat(text);
  }
  // Octal, hex, infinity and NaN: rare in a config; yaml knows them.
  if (/^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text)) {
    _unsupported();
  }
  return text;
}
