/**
 * Server lifecycle: bind the transport, route calls to method runners,
 * shut down within bounds.
 * @module
 */
import type { ResolvedServer } from "../config/types.ts";
import type { MethodBinding } from "../handlers/mod.ts";
import type { ClientsForCalls } from "../core/clients.ts";
import type { Logger } from "../core/logger.ts";
import {
  type BoundAddress,
  createTransport,
  type Route,
  type TransportCall,
} from "../transport/mod.ts";
import { Status } from "../core/errors.ts";
import { type CallRunner, createCallRunner } from "./dispatch.ts";
import type { Interceptor } from "../core/interceptor.ts";
import { type CallObserver, combineObservers } from "./observer.ts";
import type { MemoryBudget } from "../util/memory_budget.ts";
import type { AdmissionFor } from "./admission.ts";
import type { TracerFor } from "./call_tracer.ts";

/** A running server. */
export interface SvcServer {
  /** Where the gRPC listener is bound (the real port when config said 0). */
  readonly address: BoundAddress;
  /** Calls currently running. */
  readonly inFlight: number;
  /** Calls started since the server did (what the idle memory reclaimer watches). */
  readonly callsStarted: number;
  /** False while the transport cannot accept connections (see Transport.accepting). */
  readonly accepting: boolean;
  /**
   * Stops accepting connections and calls (GOAWAY) and resolves once every
   * in-flight call has ended. Open streams can keep it pending forever:
   * bound it, then call `close()`.
   */
  drain(): Promise<void>;
  /** Cancels every call (their signals abort) and closes all connections. */
  close(): Promise<void>;
  /** Resolves true once no call is running, or false after `ms`. */
  idle(ms: number): Promise<boolean>;
  /** Whether {@link rebind} works on this transport. */
  readonly canRebind: boolean;
  /**
   * Serves `bindings` through `interceptors` from now on, without closing
   * the listener or any connection (live reload). Calls in flight finish on
   * the runners they started with; paths no longer bound answer
   * UNIMPLEMENTED. Throws when the transport cannot (see `canRebind`).
   */
  rebind(bindings: readonly MethodBinding[], interceptors: readonly Interceptor[]): void;
}

/** What {@link startServer} needs: everything already loaded and validated. */
export interface StartServerOptions {
  readonly server: ResolvedServer;
  /** Every method served, user and built-in. */
  readonly bindings: readonly MethodBinding[];
  /** Run outermost first around every handler. */
  readonly interceptors: readonly Interceptor[];
  /** Told of every call's start and end, outside the interceptors. */
  readonly observers?: readonly CallObserver[];
  readonly log: Logger;
  /** What handlers get as `ctx.clients`. */
  readonly clients: ClientsForCalls;
  /** The process's memory budget (see util/memory_budget.ts); none when absent. */
  readonly memory?: MemoryBudget;
  /** Each method's admission gate (the overload limiter); none when absent. */
  readonly admissionFor?: AdmissionFor;
  /** Each method's call tracer (the tracing built-in); none when absent. */
  readonly tracerFor?: TracerFor;
}

/** Binds the transport and serves every bound method. */
export async function startServer(options: StartServerOptions): Promise<SvcServer> {
  const { bindings, interceptors, log } = options;
  const observer = combineObservers(options.observers ?? []);
  const { memory, admissionFor } = options;
  // Calls carry their read time only for a gate that measures how long they waited.
  const transport = await createTransport(options.server, log, {
    memory,
    timeReads: admissionFor !== undefined,
  });
  const runnersFor = (
    bindings: readonly MethodBinding[],
    interceptors: readonly Interceptor[],
  ): Map<string, CallRunner> => {
    const runners = new Map<string, CallRunner>();
    for (const binding of bindings) {
      runners.set(
        binding.method.path,
        createCallRunner(binding, {
          log,
          interceptors,
          observer,
          clients: options.clients,
          memory,
          admission: admissionFor?.(binding.method) ?? null,
          tracer: options.tracerFor?.(binding.method) ?? null,
        }),
      );
    }
    return runners;
  };
  let runners = runnersFor(bindings, interceptors);
  let inFlight = 0;
  let callsStarted = 0;
  let onIdle: (() => void) | null = null;
  const finished = () => {
    if (--inFlight === 0 && onIdle) onIdle();
  };
  const onCall = (call: TransportCall) => {
    inFlight++;
    callsStarted++;
    // runCall never rejects; then() skips the two closures finally() makes.
    // A call admitted just before a rebind dropped its method finds no runner.
    const runner = runners.get(call.route.path) ?? unimplemented;
    runner(call).then(finished);
  };
  const address = await transport.listen(routesOf(bindings), onCall);

  return {
    address,
    get inFlight() {
      return inFlight;
    },
    get callsStarted() {
      return callsStarted;
    },
    get accepting() {
      return transport.accepting ?? true;
    },
    drain: () => transport.drain(),
    close: () => transport.close(),
    canRebind: transport.setRoutes !== undefined,
    rebind(next, nextInterceptors) {
      if (!transport.setRoutes) throw new Error("this transport cannot swap its routes");
      // Built first, switched together: no call sees one without the other.
      const nextRunners = runnersFor(next, nextInterceptors);
      runners = nextRunners;
      transport.setRoutes(routesOf(next));
    },
    idle(ms) {
      if (inFlight === 0) return Promise.resolve(true);
      const idle = new Promise<void>((resolve) => onIdle = resolve);
      return withTimeout(idle, ms).finally(() => onIdle = null);
    },
  };
}

function routesOf(bindings: readonly MethodBinding[]): Route[] {
  // The JSON converters are the descriptor's lazy factory: nothing is built here.
  return bindings.map((b) => ({
    path: b.method.path,
    kind: b.method.kind,
    noSideEffects: b.method.noSideEffects,
    json: b.method.jsonCodec,
  }));
}

function unimplemented(call: TransportCall): Promise<void> {
  call.end({
    code: Status.UNIMPLEMENTED,
    message: `The server does not implement the method ${call.route.path}`,
    trailers: null,
  });
  return Promise.resolve();
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
