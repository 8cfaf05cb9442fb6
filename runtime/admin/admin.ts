/**
 * The admin HTTP server: `/metrics` for Prometheus, `/healthz` and `/livez`
 * for liveness, `/readyz` for readiness.
 * @module
 */
import type { Logger } from "../core/logger.ts";
import { type Http1Response, listenHttp1 } from "./http1.ts";

/** Options for {@link startAdmin}. */
export interface AdminOptions {
  /** Address to bind, e.g. `0.0.0.0`. */
  host: string;
  /** Port to bind; 0 picks a free one (see {@link AdminServer.port}). */
  port: number;
  /** Renders `/metrics` (e.g. `Metrics.render`). */
  render: () => Promise<{ contentType: string; body: string }>;
  /** Liveness: false makes `/healthz` and `/livez` answer 503. */
  live: () => boolean;
  /** Readiness, with the reason shown when not ready. */
  ready: () => { ready: boolean; reason: string };
  /** Where "listening" and render failures go. */
  log?: Logger;
  /**
   * How long a client has to send a request's head, after connecting or
   * after the previous response; then the connection closes. Default 10 s.
   */
  headTimeoutMs?: number;
  /** How long `close()` waits for requests in progress before giving up on them. Default 2000 ms. */
  closeTimeoutMs?: number;
}

/** A running admin server. */
export interface AdminServer {
  /** The bound port (the real one when `port` was 0). */
  readonly port: number;
  /**
   * Stops accepting connections and waits for requests in progress, at most
   * `closeTimeoutMs`; a `/metrics` render still running is answered 503.
   */
  close(): Promise<void>;
}

const _TEXT = { "content-type": "text/plain; charset=utf-8" };

/**
 * Starts the admin server and resolves once it listens.
 *
 * @example
 * ```ts
 * import { startAdmin } from "./mod.ts";
 * const admin = await startAdmin({
 *   host: "127.0.0.1",
 *   port: 0,
 *   render: () => Promise.resolve({ contentType: "text/plain", body: "" }),
 *   live: () => true,
 *   ready: () => ({ ready: true, reason: "" }),
 * });
 * console.log(admin.port);
 * await admin.close();
 * ```
 */
export async function startAdmin(options: AdminOptions): Promise<AdminServer> {
  const closing = new AbortController();
  // Rejects at once when the address is taken (Deno.errors.AddrInUse) or not allowed.
  const server = await listenHttp1(
    options.host,
    options.port,
    (method, path) => _route(method, path, options, closing.signal),
    options.headTimeoutMs,
    (state, error) => {
      if (state === "accepting") options.log?.info("admin listener accepting again");
      else options.log?.error(`admin listener ${state}`, { error: error && String(error) });
    },
  );
  options.log?.info("admin listening", { host: server.host, port: server.port });
  let closed: Promise<void> | undefined;
  return {
    port: server.port,
    close() {
      // Unblock handlers waiting on a slow render, so graceful shutdown can finish.
      closing.abort();
      return closed ??= server.close(options.closeTimeoutMs ?? 2000);
    },
  };
}

function _route(
  method: string,
  path: string,
  options: AdminOptions,
  closing: AbortSignal,
): Http1Response | Promise<Http1Response> {
  if (method !== "GET" && method !== "HEAD") {
    return _text(405, "method not allowed\n", { allow: "GET, HEAD" });
  }
  switch (path) {
    case "/metrics":
      return _metrics(options, closing);
    case "/healthz":
    case "/livez":
      return options.live() ? _text(200, "ok\n") : _text(503, "not live\n");
    case "/readyz": {
      const { ready, reason } = options.ready();
      return ready ? _text(200, "ready\n") : _text(503, `not ready: ${reason}\n`);
    }
    default:
      return _text(404, "not found\n");
  }
}

async function _metrics(options: AdminOptions, closing: AbortSignal): Promise<Http1Response> {
  if (closing.aborted) return _text(503, "shutting down\n");
  const { promise: aborted, resolve } = Promise.withResolvers<null>();
  const onAbort = () => resolve(null);
  closing.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await Promise.race([options.render(), aborted]);
    if (result === null) return _text(503, "shutting down\n");
    return { status: 200, headers: { "content-type": result.contentType }, body: result.body };
  } catch (error) {
    options.log?.error("cannot render metrics", { error: String(error) });
    return _text(500, "cannot render metrics\n");
  } finally {
    // One listener per scrape would pile up on the long-lived signal.
    closing.removeEventListener("abort", onAbort);
  }
}

function _text(status: number, body: string, headers: Record<string, string> = {}): Http1Response {
  return { status, headers: { ..._TEXT, ...headers }, body };
}
