/**
 * Who is calling, for per-caller rate limits: the peer's IP address or the
 * value of a request header.
 * @module
 */
import process from "node:process";
import type { ServerCall } from "../core/context.ts";

/**
 * Keys longer than this are kept as a SHA-256 digest: a client choosing the
 * header can otherwise make every bucket as large as its header (20,000
 * distinct 12 KB keys held 396 MiB, issue 19). With it, a bucket costs at
 * most about 300 bytes, so `maxKeys` (default 10,000) bounds the limiter
 * at about 3 MB.
 */
export const MAX_KEY_CHARS = 64;

/**
 * Returns a call's caller key, or null when the call carries none (no such
 * header). Calls without a key share one "anonymous" bucket.
 */
export type CallerKeyOf = (call: ServerCall) => string | null;

/**
 * The IP address in a peer address: `10.0.0.7:51234` → `10.0.0.7`,
 * `[::1]:51234` → `::1`. The port is dropped because a client that
 * reconnects comes from a new port but is the same caller. An IPv4 address
 * seen on a dual-stack socket (`[::ffff:10.0.0.7]:1`) becomes plain
 * `10.0.0.7`, so both spellings share a bucket. Anything else (a bare IPv6
 * address, a socket path) is returned unchanged.
 *
 * @example
 * ```ts
 * import { peerHost } from "./caller_key.ts";
 * peerHost("[::1]:50000"); // "::1"
 * ```
 */
export function peerHost(peer: string): string {
  let host = peer;
  if (peer.startsWith("[")) {
    const end = peer.indexOf("]");
    if (end > 0) host = peer.slice(1, end);
  } else {
    const colon = peer.indexOf(":");
    // Exactly one colon: `host:port`. More than one: a bare IPv6 address.
    if (colon >= 0 && peer.indexOf(":", colon + 1) < 0) host = peer.slice(0, colon);
  }
  if (host.length > 7 && host.slice(0, 7).toLowerCase() === "::ffff:" && host.includes(".")) {
    host = host.slice(7);
  }
  return host;
}

/**
 * Builds the key function for a `rateLimit.perKey.key` setting: `peer` or
 * `header:<name>`. A `-bin` header's bytes are keyed by their base64.
 *
 * @example
 * ```ts
 * import { createCallerKey } from "./caller_key.ts";
 * const keyOf = createCallerKey("header:x-api-key");
 * ```
 */
export function createCallerKey(spec: string): CallerKeyOf {
  if (spec === "peer") {
    return function peerKey(call) {
      return call.peer ? peerHost(call.peer) : null;
    };
  }
  if (spec.startsWith("header:") && spec.length > "header:".length) {
    const name = spec.slice("header:".length).toLowerCase();
    return function headerKey(call) {
      const value = call.metadata.get(name);
      if (value === undefined || value === "") return null;
      return boundedKey(typeof value === "string" ? value : _base64(value));
    };
  }
  throw new RangeError(`Cannot use rate limit key "${spec}": expected "peer" or "header:<name>"`);
}

/**
 * `key` itself, or for one longer than {@link MAX_KEY_CHARS}, `sha256:` and
 * its base64url digest (50 chars): distinct keys stay distinct, and the
 * digest cannot collide with a short key.
 *
 * @example
 * ```ts
 * import { boundedKey } from "./caller_key.ts";
 * boundedKey("k-123"); // "k-123"
 * boundedKey("x".repeat(12_000)).length; // 50
 * ```
 */
export function boundedKey(key: string): string {
  if (key.length <= MAX_KEY_CHARS) return key;
  return `sha256:${_crypto().createHash("sha256").update(key).digest("base64url")}`;
}

let _cryptoModule: typeof import("node:crypto") | undefined;
/**
 * node:crypto on the first long key, not at start: loading it costs every
 * cold start ~2 ms (measured after node:net), and most callers never need it.
 */
function _crypto(): typeof import("node:crypto") {
  return _cryptoModule ??= process.getBuiltinModule("node:crypto") as typeof import("node:crypto");
}

function _base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
