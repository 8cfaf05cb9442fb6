/**
 * Request header rules of RFC 9113 §8.2–8.3: what makes a request
 * malformed (a stream error), and the few fields the transport reads.
 * @module
 */
import type { HeaderField } from "./hpack/mod.ts";

/** The request fields the transport acts on. */
export interface RequestHead {
  method: string;
  path: string;
  contentType: string | undefined;
  timeout: string | undefined;
  encoding: string | undefined;
  acceptEncoding: string | undefined;
}

/** Connection-specific fields, forbidden in HTTP/2 both ways (RFC 9113 §8.2.2). */
export const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/** The request head, or why the request is malformed. */
export function validateRequestHeaders(fields: readonly HeaderField[]): RequestHead | string {
  let method: string | undefined, path: string | undefined, scheme: string | undefined;
  let authority = false, regular = false;
  const head: RequestHead = {
    method: "",
    path: "",
    contentType: undefined,
    timeout: undefined,
    encoding: undefined,
    acceptEncoding: undefined,
  };
  for (const [name, value] of fields) {
    if (name.charCodeAt(0) === 58 /* ":" */) {
      if (regular) return `pseudo-header ${name} after regular fields`;
      switch (name) {
        case ":method":
          if (method !== undefined) return "duplicate :method";
          method = value;
          break;
        case ":path":
          if (path !== undefined) return "duplicate :path";
          path = value;
          break;
        case ":scheme":
          if (scheme !== undefined) return "duplicate :scheme";
          scheme = value;
          break;
        case ":authority":
          if (authority) return "duplicate :authority";
          authority = true;
          break;
        default:
          return `unknown pseudo-header ${name}`;
      }
      continue;
    }
    regular = true;
    const problem = fieldProblem(name, value);
    if (problem !== null) return problem;
    switch (name) {
      case "content-type":
        head.contentType = value;
        break;
      case "te":
        if (value !== "trailers") return `te: ${value} (only "trailers" is allowed)`;
        break;
      case "grpc-timeout":
        head.timeout = value;
        break;
      case "grpc-encoding":
        head.encoding = value;
        break;
      case "grpc-accept-encoding":
        head.acceptEncoding = value;
        break;
    }
  }
  if (method === undefined || path === undefined || scheme === undefined) {
    return "missing :method, :scheme or :path";
  }
  if (path === "") return "empty :path";
  head.method = method;
  head.path = path;
  return head;
}

/** Why trailers from the client are malformed, or null. */
export function validateTrailers(fields: readonly HeaderField[]): string | null {
  for (const [name, value] of fields) {
    if (name.charCodeAt(0) === 58) return `pseudo-header ${name} in trailers`;
    const problem = fieldProblem(name, value);
    if (problem !== null) return problem;
  }
  return null;
}

// Names seen valid before: clients send the same few names on every call.
const validNames = new Set<string>();
const VALID_NAMES_MAX = 512;

function fieldProblem(name: string, value: string): string | null {
  if (!validNames.has(name)) {
    const problem = nameProblem(name);
    if (problem !== null) return problem;
    if (validNames.size < VALID_NAMES_MAX) validNames.add(name);
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return `invalid value for ${name}`;
  }
  return null;
}

function nameProblem(name: string): string | null {
  if (name.length === 0) return "empty field name";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // Lower-case visible ASCII only, no separators that end a name (RFC 9113 §8.2.1).
    if (c <= 0x20 || c >= 0x7f || (c >= 0x41 && c <= 0x5a) || c === 0x3a) {
      return `invalid field name ${JSON.stringify(name)}`;
    }
  }
  if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
  return null;
}
