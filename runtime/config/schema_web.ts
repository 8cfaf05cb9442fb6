/**
 * The `server.web` section of the config schema: gRPC-Web and the Connect
 * protocol on the gRPC port (HTTP/1.1 limits, and CORS for browsers on
 * other origins). Kept apart from schema.ts, which it joins as one key.
 * @module
 */
import { boolean, duration, integer, list, object, string } from "./schema_types.ts";

// An origin as browsers serialize it (RFC 6454 §6.2): scheme, host, optional
// port, nothing after. A path or trailing slash never matches an Origin header,
// so it is refused here rather than silently allowing nobody.
const ORIGIN = {
  pattern:
    /^(\*|[A-Za-z][A-Za-z0-9+.-]*:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?)$/,
  expected: `"*" or an origin "scheme://host[:port]" without a path`,
  normalize: _normalizeOrigin,
};
const HEADER_NAME = {
  pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/,
  expected: "a header name",
  normalize: (value: string) => value.toLowerCase(),
};

// Browsers send origins lower-cased and without their scheme's default port,
// so a configured "https://App.example:443" must become "https://app.example".
function _normalizeOrigin(value: string): string {
  const lower = value.toLowerCase();
  if (lower.startsWith("https://") && lower.endsWith(":443")) return lower.slice(0, -4);
  if (lower.startsWith("http://") && lower.endsWith(":80")) return lower.slice(0, -3);
  return lower;
}

// Off by default, so nothing costs when unused: with it on, every plaintext
// connection pays a first-bytes sniff (HTTP/2 or HTTP/1.1).
const cors = object({
  allowedOrigins: list(string({ doc: "", ...ORIGIN }), {
    doc:
      'Browser origins allowed to call ("scheme://host[:port]", exact), or ["*"] for any; empty = CORS off: no CORS headers, preflights get none. `*` cannot be mixed with origins.',
    default: [],
  }),
  allowCredentials: boolean({
    doc:
      "Send Access-Control-Allow-Credentials: true, letting browsers send cookies and HTTP auth; with `*` the request's origin is echoed instead, so any site can call as the user.",
    default: false,
  }),
  allowedHeaders: list(string({ doc: "", ...HEADER_NAME }), {
    doc:
      "Request headers browsers may send beyond the built-in Connect and gRPC-Web ones (Content-Type, Connect-Protocol-Version, Connect-Timeout-Ms, Grpc-Timeout, X-Grpc-Web, X-User-Agent, ...), e.g. [authorization].",
    default: [],
  }),
  exposedHeaders: list(string({ doc: "", ...HEADER_NAME }), {
    doc:
      "Response headers scripts may read beyond the built-in Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin, Content-Encoding, Connect-Content-Encoding: handler metadata is sent as plain headers, and Connect unary sends trailers as `trailer-<name>`; list those you read.",
    default: [],
  }),
  maxAge: duration({
    doc:
      "How long browsers may cache a preflight answer (Access-Control-Max-Age; Chromium caps it at 2h).",
    default: "2h",
  }),
}, { doc: "Cross-origin (CORS) access for browsers on the web protocols; off by default." });

export const web = object({
  enabled: boolean({
    doc:
      "Serve gRPC-Web and the Connect protocol (binary and JSON) over HTTP/1.1 on the gRPC port, next to gRPC (native transport only). Off by default: when on, each plaintext connection's first bytes are sniffed to tell HTTP/2 from HTTP/1.1. Browsers on another origin also need `cors`.",
    default: false,
  }),
  maxHeadBytes: integer({
    doc: "Largest HTTP/1.1 request line and headers, in bytes; more is answered 431.",
    default: 16384,
    min: 1024,
  }),
  maxHeaderCount: integer({
    doc: "Most header fields in one HTTP/1.1 request; more is answered 431.",
    default: 100,
    min: 8,
  }),
  headTimeout: duration({
    doc: "Time an HTTP/1.1 request's headers get to arrive once begun (slowloris bound).",
    default: "10s",
    min: 100,
  }),
  bodyIdleTimeout: duration({
    doc:
      "Longest pause in an HTTP/1.1 request body (or a stalled response write) before 408 and close.",
    default: "30s",
    min: 100,
  }),
  keepAliveIdle: duration({
    doc: "Time an idle kept-alive HTTP/1.1 connection is held open for its next request.",
    default: "60s",
    min: 100,
  }),
  cors,
}, {
  doc:
    "gRPC-Web and Connect over HTTP/1.1 on the gRPC port; request bodies are bounded by maxReceiveMessageBytes.",
});
