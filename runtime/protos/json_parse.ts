/**
 * A strict JSON parser for the canonical mapping. `JSON.parse` is not enough:
 * it rounds big integers before a 64-bit field sees them, keeps the last of
 * two duplicate keys without a word, and its reviver recurses without a
 * limit. This one keeps each number's text, rejects duplicate keys, and
 * refuses nesting deeper than a cap instead of overflowing the stack.
 * @module
 */
import { JsonMappingError } from "./json_error.ts";

/** A JSON number with its source text, so `9223372036854775807` stays exact. */
export class JsonNumber {
  /** The literal as written, e.g. `1e3` or `-0.5`. */
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  /** The nearest double. */
  get value(): number {
    return Number(this.text);
  }
  toString(): string {
    return this.text;
  }
}

/** A parsed JSON value. Objects are Maps, so a key named `__proto__` is just a key. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
/** A parsed JSON object, keys in source order. */
export type JsonObject = Map<string, JsonValue>;

const _NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const _ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * Parses JSON `text`. Throws JsonMappingError (path "") on a syntax error, a
 * duplicate key, or nesting deeper than `maxDepth` arrays and objects.
 *
 * @example
 * ```ts
 * const value = parseJson('{"id": 9223372036854775807}', 100);
 * ((value as JsonObject).get("id") as JsonNumber).text; // "9223372036854775807"
 * ```
 */
export function parseJson(text: string, maxDepth: number): JsonValue {
  const parser = new _Parser(text, maxDepth);
  parser.skipSpace();
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.pos < text.length) parser.fail("unexpected text after the value");
  return value;
}

class _Parser {
  pos = 0;
  constructor(readonly text: string, readonly maxDepth: number) {}

  fail(reason: string): never {
    throw new JsonMappingError("", `Cannot parse JSON at offset ${this.pos}: ${reason}`);
  }

  skipSpace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  value(depth: number): JsonValue {
    const c = this.text[this.pos];
    if (c === "{" || c === "[") {
      if (depth >= this.maxDepth) this.fail(`nested deeper than ${this.maxDepth} levels`);
      return c === "{" ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '"') return this.string();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    _NUMBER.lastIndex = this.pos;
    const m = _NUMBER.exec(this.text);
    if (!m) {
      this.fail(c === undefined ? "unexpected end of input" : `unexpected ${JSON.stringify(c)}`);
    }
    this.pos += m[0].length;
    return new JsonNumber(m[0]);
  }

  object(depth: number): JsonObject {
    const out: JsonObject = new Map();
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail("expected a string key");
      const keyAt = this.pos;
      const key = this.string();
      if (out.has(key)) {
        this.pos = keyAt;
        this.fail(`duplicate key ${JSON.stringify(key)}`);
      }
      this.skipSpace();
      this.expect(":");
      this.skipSpace();
      out.set(key, this.value(depth));
      this.skipSpace();
      if (this.text[this.pos] === "}") {
        this.pos++;
        return out;
      }
      this.expect(",");
      this.skipSpace();
    }
  }

  array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.skipSpace();
      if (this.text[this.pos] === "]") {
        this.pos++;
        return out;
      }
      this.expect(",");
      this.skipSpace();
    }
  }

  string(): string {
    const text = this.text;
    let out = "";
    let start = ++this.pos;
    for (;;) {
      if (this.pos >= text.length) this.fail("unterminated string");
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) this.fail("control character in string");
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += text.slice(start, this.pos);
      const e = text[this.pos + 1];
      if (e === "u") {
        const hex = text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape");
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else if (e !== undefined && e in _ESCAPES) {
        out += _ESCAPES[e];
        this.pos += 2;
      } else {
        this.fail("bad escape");
      }
      start = this.pos;
    }
    out += text.slice(start, this.pos);
    this.pos++;
    return out;
  }

  expect(c: string): void {
    if (this.text[this.pos] !== c) this.fail(`expected ${JSON.stringify(c)}`);
    this.pos++;
  }
}
