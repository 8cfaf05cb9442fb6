/**
 * What a parsed head says about its message: how long the body is, whether
 * the connection may be kept, and whether the client waits for 100 Continue.
 * This is where request smuggling is refused: RFC 9112 §6.1 and §6.3 allow
 * a server to reject what a proxy in front of it might read differently, and
 * this one does: Content-Length with Transfer-Encoding, any coding but a
 * lone `chunked`, Transfer-Encoding in HTTP/1.0, and more than one
 * Content-Length, even if equal.
 * @module
 */
import { Http1ProtocolError } from "./errors.ts";
import type { ParsedHead } from "./head_parser.ts";

/** How a request's body is delimited. */
export type BodyFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" };

/** The framing facts of one request. */
export interface RequestFraming {
  readonly body: BodyFraming;
  /** The client allows the connection to be reused (before our own reasons to close). */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` on an HTTP/1.1 request with a body. */
  readonly expectContinue: boolean;
}

/** Longest Content-Length accepted, in digits: beyond it the value is not a safe integer. */
const MAX_LENGTH_DIGITS = 15;

/**
 * Judges `head`'s framing headers; throws {@link Http1ProtocolError} with
 * the status to answer: 400 (ambiguous framing, missing Host), 413 (declared
 * body over `maxBodyBytes`, before any of it is read), 417 (an expectation
 * other than 100-continue), 501 (a transfer coding other than chunked).
 *
 * @example
 * ```ts
 * const head = parseHead(new TextEncoder().encode(
 *   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n",
 * ));
 * requestFraming(head, 1024).body; // { kind: "length", length: 3 }
 * ```
 */
export function requestFraming(head: ParsedHead, maxBodyBytes: number): RequestFraming {
  const { headers, httpVersion } = head;
  const hosts = headers.getAll("host");
  // RFC 9112 §3.2: a 1.1 request without Host, or with more than one, gets 400.
  if (hosts.length > 1 || (httpVersion === "1.1" && hosts.length === 0)) {
    throw new Http1ProtocolError(400, hosts.length > 1 ? "more than one Host" : "missing Host");
  }
  const body = bodyFraming(head, maxBodyBytes);
  const tokens = connectionTokens(headers.getAll("connection"));
  const keepAlive = httpVersion === "1.1" ? !tokens.has("close") : tokens.has("keep-alive");
  const expect = headers.get("expect");
  let expectContinue = false;
  if (expect !== null) {
    // RFC 9110 §10.1.1: 100-continue is the only expectation defined; others get 417.
    if (expect.toLowerCase() !== "100-continue") {
      throw new Http1ProtocolError(417, "unsupported expectation");
    }
    // A 1.0 client cannot understand 100 (RFC 9110 §10.1.1): ignore it there.
    expectContinue = httpVersion === "1.1" && body.kind !== "none";
  }
  return { body, keepAlive, expectContinue };
}

function bodyFraming(head: ParsedHead, maxBodyBytes: number): BodyFraming {
  const { headers } = head;
  const codings = headers.getAll("transfer-encoding");
  const lengths = headers.getAll("content-length");
  if (codings.length > 0) {
    // RFC 9112 §6.1: both present is a smuggling attempt or a broken sender; either way, refuse.
    if (lengths.length > 0) {
      throw new Http1ProtocolError(400, "both Content-Length and Transfer-Encoding");
    }
    if (head.httpVersion === "1.0") {
      throw new Http1ProtocolError(400, "Transfer-Encoding in an HTTP/1.0 request");
    }
    const list = codings.join(",").split(",").map((coding) => coding.trim().toLowerCase());
    // §6.3: chunked must be final, else the length is unknowable: 400. We decode no other
    // coding (identity is no longer one, RFC 9112 §7): so exactly one, chunked.
    if (list.at(-1) !== "chunked") {
      throw new Http1ProtocolError(400, "Transfer-Encoding does not end in chunked");
    }
    if (list.length !== 1) throw new Http1ProtocolError(501, "unsupported transfer coding");
    return { kind: "chunked" };
  }
  if (lengths.length === 0) return { kind: "none" };
  // §6.3 lets a recipient accept a list of equal values; a proxy might not, so we refuse any.
  if (lengths.length > 1 || !/^\d+$/.test(lengths[0])) {
    throw new Http1ProtocolError(400, "invalid Content-Length");
  }
  const digits = lengths[0].replace(/^0+(?=\d)/, "");
  if (digits.length > MAX_LENGTH_DIGITS) throw new Http1ProtocolError(413, "body too large");
  const length = Number(digits);
  if (length > maxBodyBytes) throw new Http1ProtocolError(413, "body too large");
  return length === 0 ? { kind: "none" } : { kind: "length", length };
}

function connectionTokens(values: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (const value of values) {
    for (const token of value.split(",")) tokens.add(token.trim().toLowerCase());
  }
  return tokens;
}
