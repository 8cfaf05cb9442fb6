/**
 * Server lifecycle: bind the transport, route calls to method runners,
 * shut down within bounds.
 * @module
 */
import type { ResolvedConfig } from "../config/types.ts";
import type { LoadedHandlers } from "../handlers/mod.ts";
import type { Logger } from "../log/types.ts";
import { type BoundAddress, createTransport, type TransportCall } from "../transport/mod.ts";
import { accessLog } from "../interceptors/mod.ts";
import { type CallRunner, createCallRunner } from "./dispatch.ts";
import type { Interceptor } from "./interceptor.ts";

/** A running server. */
export interface SvcServer extends AsyncDisposable {
  /** Where the gRPC listener is bound (the real port when config said 0). */
  readonly address: BoundAddress;
  /** Calls currently running. */
  readonly inFlight: number;
  /**
   * Stops accepting calls, lets in-flight calls finish for up to
   * `gracePeriodMs`, then cancels the rest and closes. Idempotent.
   */
  shutdown(gracePeriodMs?: number): Promise<void>;
}

/** What {@link startServer} needs: everything already loaded and validated. */
export interface StartServerOptions {
  readonly config: ResolvedConfig;
  readonly handlers: LoadedHandlers;
  readonly log: Logger;
}

/** Binds the transport and serves every bound method. */
export async function startServer(options: StartServerOptions): Promise<SvcServer> {
  const { config, handlers, log } = options;
  const transport = createTransport(config.server);
  // Built-ins first (recover is the runner itself), then the user's.
  const interceptors: Interceptor[] = [];
  if (config.logging.accessLog) interceptors.push(accessLog(log));
  const runners = new Map<string, CallRunner>();
  for (const binding of handlers.bindings) {
    runners.set(binding.method.path, createCallRunner(binding, { log, interceptors }));
  }
  const routes = handlers.bindings.map((b) => ({ path: b.method.path, kind: b.method.kind }));
  let inFlight = 0;
  const onCall = (call: TransportCall) => {
    inFlight++;
    runners.get(call.route.path)!(call).finally(() => inFlight--);
  };
  const address = await transport.listen(routes, onCall);

  let stopping: Promise<void> | null = null;
  const shutdown = (gracePeriodMs = config.shutdown.gracePeriod) =>
    stopping ??= (async () => {
      const drained = await withTimeout(transport.drain(), gracePeriodMs);
      if (!drained) log.warn("grace period over; cancelling calls", { inFlight });
      await transport.close();
    })();

  return {
    address,
    get inFlight() {
      return inFlight;
    },
    shutdown,
    [Symbol.asyncDispose]: () => shutdown(0),
  };
}

/** Resolves true if `promise` settles within `ms`, false otherwise. Clears its timer. */
export async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
