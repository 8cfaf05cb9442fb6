/**
 * The admin HTTP server: `/metrics` for Prometheus, `/healthz` and `/livez`
 * for liveness, `/readyz` for readiness.
 * @module
 */
import type { Logger } from "../core/logger.ts";

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
  /** Where "listening" and request failures go. */
  log?: Logger;
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
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  // Throws at once when the address is taken or not allowed.
  const server = Deno.serve({
    hostname: options.host,
    port: options.port,
    // Quiet: the logger reports the address, not Deno's default console line.
    onListen: resolve,
    onError: (error) => {
      options.log?.error("admin request failed", { error: String(error) });
      return _text(500, "internal error\n");
    },
  }, (request) => _route(request, options, closing.signal));
  const address = await listening;
  options.log?.info("admin listening", { host: address.hostname, port: address.port });
  let closed: Promise<void> | undefined;
  return {
    port: address.port,
    close() {
      return closed ??= _close(server, closing, options.closeTimeoutMs ?? 2000);
    },
  };
}

async function _close(
  server: Deno.HttpServer,
  closing: AbortController,
  timeoutMs: number,
): Promise<void> {
  // Unblock handlers waiting on a slow render, so graceful shutdown can finish.
  closing.abort();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([server.shutdown(), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

async function _route(
  request: Request,
  options: AdminOptions,
  closing: AbortSignal,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return _text(405, "method not allowed\n", { allow: "GET, HEAD" });
  }
  const path = new URL(request.url).pathname;
  switch (path) {
    case "/metrics":
      return await _metrics(options, closing);
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

async function _metrics(options: AdminOptions, closing: AbortSignal): Promise<Response> {
  if (closing.aborted) return _text(503, "shutting down\n");
  const { promise: aborted, resolve } = Promise.withResolvers<null>();
  const onAbort = () => resolve(null);
  closing.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await Promise.race([options.render(), aborted]);
    if (result === null) return _text(503, "shutting down\n");
    return new Response(result.body, { headers: { "content-type": result.contentType } });
  } catch (error) {
    options.log?.error("cannot render metrics", { error: String(error) });
    return _text(500, "cannot render metrics\n");
  } finally {
    // One listener per scrape would pile up on the long-lived signal.
    closing.removeEventListener("abort", onAbort);
  }
}

function _text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ..._TEXT, ...headers } });
}
