/**
 * Request heads (RFC 9112 §2-§5): finding where one ends in the input, and
 * parsing its request line and header fields. Strict where leniency is what
 * request smuggling feeds on: a bare LF or CR (§2.2), whitespace before a
 * field's colon (§5.1) and obs-fold (§5.2) are each answered 400, never
 * guessed at. Framing headers are judged in framing.ts.
 * @module
 */
import { Http1ProtocolError } from "./errors.ts";
import { Http1Headers } from "./headers.ts";

const CR = 0x0d;
const LF = 0x0a;

/** Where a scan of buffered input has got to; carried between reads so each byte is scanned once. */
export interface HeadScan {
  /** Next offset to scan (of the buffered view). */
  position: number;
  /** Offset where the current line starts. */
  lineStart: number;
  /** Lines ended so far, not counting leading empty lines. */
  lines: number;
  /** Leading empty lines skipped (RFC 9112 §2.2 lets a server ignore them). */
  leading: number;
}

/** A fresh scan state. */
export function newHeadScan(): HeadScan {
  return { position: 0, lineStart: 0, lines: 0, leading: 0 };
}

/**
 * Scans `bytes` from where `scan` stopped for the end of a head (an empty
 * line). Returns the offset just past it, or -1 if the head is incomplete.
 * Throws 400 for a bare LF or CR, 431 past the size or field-count limit:
 * both checked as bytes arrive, so a flood is refused before it is buffered.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * scanHead(bytes, newHeadScan(), 8192, 100); // 27
 * ```
 */
export function scanHead(
  bytes: Uint8Array,
  scan: HeadScan,
  maxHeadBytes: number,
  maxHeaderCount: number,
): number {
  let i = scan.position;
  for (; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === CR) {
      if (i + 1 === bytes.length) break; // its LF may come with the next read
      if (bytes[i + 1] !== LF) throw new Http1ProtocolError(400, "bare CR in request head");
      continue;
    }
    if (byte !== LF) continue;
    if (i === 0 || bytes[i - 1] !== CR) {
      throw new Http1ProtocolError(400, "bare LF in request head");
    }
    const empty = i - 1 === scan.lineStart;
    scan.lineStart = i + 1;
    if (empty) {
      if (scan.lines > 0) {
        if (i + 1 - scan.leading * 2 > maxHeadBytes) {
          throw new Http1ProtocolError(431, "request head too large");
        }
        return i + 1;
      }
      scan.leading++;
      if (scan.leading > 8) throw new Http1ProtocolError(400, "too many empty lines");
      continue;
    }
    scan.lines++;
    if (scan.lines - 1 > maxHeaderCount) {
      throw new Http1ProtocolError(431, "too many header fields");
    }
  }
  scan.position = i;
  if (bytes.length - scan.leading * 2 > maxHeadBytes) {
    throw new Http1ProtocolError(431, "request head too large");
  }
  return -1;
}

/** A parsed request head; framing headers not yet judged. */
export interface ParsedHead {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  readonly httpVersion: "1.0" | "1.1";
  readonly headers: Http1Headers;
}

/**
 * Parses a whole head, from its first byte to just past its empty line, as
 * found by {@link scanHead}.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n");
 * parseHead(bytes).path; // "/a"
 * ```
 */
export function parseHead(bytes: Uint8Array): ParsedHead {
  const text = latin1(bytes);
  const lines = text.split("\r\n");
  let first = 0;
  while (lines[first] === "") first++;
  const requestLine = lines[first];
  // The head ends with an empty line, so the split ends with two empty strings.
  const fieldLines = lines.slice(first + 1, lines.length - 2);
  const { method, target, httpVersion } = parseRequestLine(requestLine);
  const { path, query } = parseTarget(method, target);
  const fields: [string, string][] = [];
  for (const line of fieldLines) fields.push(parseFieldLine(line));
  return { method, target, path, query, httpVersion, headers: new Http1Headers(fields) };
}

/** RFC 9112 §3: method SP request-target SP HTTP-version, single spaces. */
function parseRequestLine(line: string) {
  const parts = line.split(" ");
  if (parts.length !== 3) throw new Http1ProtocolError(400, "malformed request line");
  const [method, target, version] = parts;
  if (!isToken(method)) throw new Http1ProtocolError(400, "invalid method");
  if (target.length === 0 || !/^[\x21-\x7e]+$/.test(target)) {
    throw new Http1ProtocolError(400, "invalid request target");
  }
  const match = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (match === null) throw new Http1ProtocolError(400, "malformed HTTP version");
  if (match[1] !== "1" || (match[2] !== "0" && match[2] !== "1")) {
    throw new Http1ProtocolError(505, `HTTP version ${match[1]}.${match[2]} not supported`);
  }
  return { method, target, httpVersion: match[2] === "1" ? "1.1" as const : "1.0" as const };
}

/**
 * RFC 9112 §3.2: origin-form, absolute-form, or asterisk-form for OPTIONS.
 * Authority-form (CONNECT) is refused: this server is no proxy.
 */
function parseTarget(method: string, target: string): { path: string; query: string } {
  if (target === "*") {
    if (method !== "OPTIONS") throw new Http1ProtocolError(400, "* target is only for OPTIONS");
    return { path: "*", query: "" };
  }
  let rest = target;
  if (!target.startsWith("/")) {
    const absolute = /^https?:\/\/[^/?#]+/i.exec(target);
    if (absolute === null) throw new Http1ProtocolError(400, "invalid request target");
    rest = target.slice(absolute[0].length);
    if (!rest.startsWith("/")) rest = "/" + rest;
  }
  if (rest.includes("#")) throw new Http1ProtocolError(400, "fragment in request target");
  const mark = rest.indexOf("?");
  return mark < 0
    ? { path: rest, query: "" }
    : { path: rest.slice(0, mark), query: rest.slice(mark + 1) };
}

/** RFC 9112 §5: field-name ":" OWS field-value OWS. */
function parseFieldLine(line: string): [string, string] {
  const first = line.charCodeAt(0);
  if (first === 0x20 || first === 0x09) {
    throw new Http1ProtocolError(400, "obsolete line folding");
  }
  const colon = line.indexOf(":");
  if (colon <= 0) throw new Http1ProtocolError(400, "malformed header field");
  const name = line.slice(0, colon);
  // No whitespace is allowed between name and colon (§5.1): it is a known smuggling vector.
  if (!isToken(name)) throw new Http1ProtocolError(400, "invalid header field name");
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
  // VCHAR, SP, HTAB and obs-text only (RFC 9110 §5.5): NUL and other controls are refused.
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) {
    throw new Http1ProtocolError(400, "invalid header field value");
  }
  return [name.toLowerCase(), value];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 9110 §5.6.2 token. */
export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

/** Bytes to a string one char per byte (not TextDecoder's "latin1", which is windows-1252). */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, Math.min(i + 4096, bytes.length)));
  }
  return text;
}
