/**
 * Start-up after everything is loaded: listen, admin, health SERVING; and
 * the shutdown that undoes it. Order: listen → admin → SERVING.
 * @module
 */
import { startAdmin } from "../admin/mod.ts";
import type { AdminServer } from "../admin/mod.ts";
import { HealthState } from "../health/state.ts";
import { accessLog, deadline } from "../interceptors/mod.ts";
import type { Logger } from "../core/logger.ts";
import { createMetrics, type Metrics } from "../metrics/mod.ts";
import type { Interceptor } from "../core/interceptor.ts";
import type { CallObserver } from "../server/observer.ts";
import { createRateLimiter } from "../rate_limit/mod.ts";
import type { SharedLimits } from "../rate_limit/shared_limits.ts";
import { noClients } from "../client/no_clients.ts";
import type { Clients } from "../client/clients.ts";
import { createRegistrar } from "../registry/registrar.ts";
import { startServer, type SvcServer } from "../server/server.ts";
import type { BoundAddress } from "../transport/mod.ts";
import { BUILTIN_SERVICES, loadBuiltins } from "./builtins.ts";
import type { LoadedApp } from "./load.ts";
import type { MethodBinding } from "../handlers/mod.ts";
import { shutdown } from "./shutdown.ts";
import { startupMark } from "../util/startup_timings.ts";
import type { AdmissionFor } from "../server/admission.ts";
import { MemoryBudget } from "../util/memory_budget.ts";
import { fixMmapThreshold } from "../util/malloc_tuning.ts";
import { chooseMemoryBudget, containerMemoryLimit, heapLimit } from "../util/container_memory.ts";
import { lazyModulesFor, warmLazyModules } from "./warm_lazy_modules.ts";
import { helperThreadsWatch } from "./helper_threads.ts";

/** A serving app. */
export interface RunningApp {
  readonly address: BoundAddress;
  /** The admin HTTP port, or null when admin is disabled. */
  readonly adminPort: number | null;
  readonly health: HealthState;
  /** Every served service, the user's first, then the built-ins. */
  readonly services: readonly string[];
  /**
   * Serves `next`'s handlers, middleware and protos from now on without
   * closing the listener or connections (live reload; see app/reload.ts):
   * calls in flight finish on the old code. `next` must have the same
   * config. Resolves false, changing nothing, when the transport cannot.
   */
  swap(next: LoadedApp): Promise<boolean>;
  /** Runs the graceful shutdown sequence once; later calls return the same promise. */
  shutdown(): Promise<void>;
  /** The metrics as prom-client JSON, for a supervisor to aggregate; null when metrics are off. */
  metricsJson(): Promise<unknown[]> | null;
}

/** How {@link startApp} serves: alone (the default), or as one of `server.workers`. */
export interface StartOptions {
  /**
   * Set in a worker (app/workers/): the supervisor owns the admin server,
   * the registry entry, the signals and the drain delay; the worker gets
   * `memoryShare` of the memory budget and counts rate limits in the
   * process-wide `limits`.
   */
  readonly worker?: { readonly memoryShare: number; readonly limits: SharedLimits };
}

/** Serves a loaded app and marks it SERVING. */
export async function startApp(
  app: LoadedApp,
  log: Logger,
  options: StartOptions = {},
): Promise<RunningApp> {
  const { config } = app;
  const worker = options.worker ?? null;
  const health = new HealthState(app.handlers.services.keys());
  const bindings = await bindingsOf(app, health, log);
  const memory = memoryBudget(config.server, log, worker?.memoryShare ?? 1);
  // Loaded only when enabled: a disabled built-in costs no module and no work per call.
  const overload = config.overload.enabled
    ? new (await import("../overload/mod.ts")).OverloadLimiter(config.overload)
    : null;
  const memoryGuard = await memoryLimitGuard(config.server.memoryLimitBytes, memory, log);
  const watchIdleMemory = config.server.reclaimIdleMemory ? await idleReclaimFor(log) : null;
  // A worker's threads are the supervisor's to watch (workers/run_workers.ts).
  const watchHelpers = await helperThreadsWatch(
    worker === null && config.server.yieldHelperThreads,
    log,
  );
  const tracing = config.tracing.enabled
    ? (await import("../tracing/mod.ts")).createTracing({
      config: config.tracing,
      service: config.service,
      log,
      isBuiltin: (service) => BUILTIN_SERVICES.has(service),
    })
    : null;
  // The clients are made after the metrics (they need the observer); their
  // readings are only read at scrape time, through this late-bound view.
  let clients: Clients = noClients();
  const metrics = config.admin.enabled
    ? createMetrics({
      methods: bindings.map((b) => b.method),
      // One process, one set of process metrics: the supervisor's.
      defaultMetrics: worker === null,
      memory,
      overload: overload ?? undefined,
      memoryLimit: memoryGuard ?? undefined,
      tracing: tracing?.readings,
      clientMethods: [...app.dependencies.values()].flatMap((d) => d.methods),
      clients: app.dependencies.size > 0
        ? {
          get dependencies() {
            return clients.readings.dependencies;
          },
        }
        : null,
    })
    : null;

  const observers: CallObserver[] = [];
  if (metrics) observers.push(metrics.observer);
  if (config.logging.accessLog) observers.push(accessLog(log));
  const interceptors: Interceptor[] = [];
  const rateLimiter = createRateLimiter(config.rateLimit, {
    exempt: (call) => BUILTIN_SERVICES.has(call.service),
    onReject: (limit, call) => metrics?.onRateLimitReject(limit, call.service, call.methodName),
    shared: worker?.limits,
  });
  if (rateLimiter) interceptors.push(rateLimiter);
  interceptors.push(deadline);
  // Built-ins first; the user's middleware is what a reload may replace.
  const builtinInterceptors = [...interceptors];
  interceptors.push(...app.middleware);

  // Before the server, so handlers can call out from their first call.
  // grpc-js (the client side) loads only for services that call others.
  if (app.dependencies.size > 0) {
    clients = (await import("../client/discovery.ts")).createClients({
      registry: config.registry,
      dependencies: app.dependencies,
      log,
      tracer: tracing?.outgoing,
      observer: metrics?.clientObserver,
      interceptors: app.clientMiddleware,
    });
  }
  let server;
  try {
    server = await startServer({
      server: config.server,
      bindings,
      interceptors,
      observers,
      log,
      clients,
      memory,
      admissionFor: admissionFor(overload, memoryGuard),
      tracerFor: tracing?.tracerFor,
    });
  } catch (error) {
    overload?.stop();
    memoryGuard?.stop();
    await clients.close();
    throw error;
  }
  startupMark("listening");
  tracing?.setServerAddress(server.address);
  const reclaim = watchIdleMemory?.(server) ?? null;
  const helpers = watchHelpers();
  let draining = false;
  let admin: AdminServer | null = null;
  try {
    const accepting = () => server!.accepting;
    admin = metrics && worker === null
      ? await startAdminFor(app, metrics, health, () => draining, accepting, log)
      : null;
  } catch (error) {
    overload?.stop();
    memoryGuard?.stop();
    reclaim?.stop();
    helpers.stop();
    await Promise.all([server.close(), clients.close()]);
    throw error;
  }
  health.setAll("SERVING");
  // What a request would load lazily loads now, while descriptors are to be had.
  const warming = warmLazyModules(lazyModulesFor(config, metrics !== null), log);
  // Registered only once serving: a client that finds this instance can call it.
  const registrar = config.registry.type === "etcd" && worker === null
    ? createRegistrar({
      registry: config.registry,
      services: [...app.handlers.services.keys()],
      address: server.address,
      log,
      metrics,
      version: config.service.version,
    })
    : null;
  registrar?.start();

  let stopping: Promise<void> | null = null;
  let current = app;
  let services = servicesOf(bindings);
  return {
    address: server.address,
    adminPort: admin?.port ?? null,
    health,
    get services() {
      return services;
    },
    async swap(next) {
      if (!server!.canRebind || stopping) return false;
      const nextBindings = await bindingsOf(next, health, log);
      server!.rebind(nextBindings, [...builtinInterceptors, ...next.middleware]);
      clients.setInterceptors(next.clientMiddleware);
      const status = health.get("") ?? "NOT_SERVING";
      for (const service of current.handlers.services.keys()) {
        if (!next.handlers.services.has(service)) health.remove(service);
      }
      for (const service of next.handlers.services.keys()) health.set(service, status);
      current = next;
      services = servicesOf(nextBindings);
      return true;
    },
    metricsJson: () => metrics?.renderJson() ?? null,
    shutdown: () =>
      stopping ??= shutdown({
        // A worker is told to shut down once the supervisor's drain delay has passed.
        settings: worker ? { ...config.shutdown, drainDelay: 0 } : config.shutdown,
        health,
        server,
        log,
        markDraining: () => {
          draining = true;
          // A drain is calm by design: no start-up page release or reclaim pause inside it.
          reclaim?.stop();
        },
        deregister: () => registrar?.deregister() ?? Promise.resolve(),
        flushTelemetry: tracing ? (boundMs) => tracing.shutdown(boundMs) : undefined,
        closeRest: async () => {
          warming.stop();
          overload?.stop();
          memoryGuard?.stop();
          helpers.stop();
          // reclaim stopped with markDraining, which every shutdown runs first.
          await Promise.all([admin?.close(), registrar?.close(), clients.close()]);
        },
      }),
  };
}

/** User bindings from `app`, then the built-ins describing `app`'s protos and services. */
async function bindingsOf(
  app: LoadedApp,
  health: HealthState,
  log: Logger,
): Promise<MethodBinding[]> {
  const { config, protos, handlers } = app;
  const builtins = await loadBuiltins(config, health, protos, handlers.services.keys(), log);
  return [...handlers.bindings, ...builtins.bindings];
}

function servicesOf(bindings: readonly MethodBinding[]): string[] {
  return [...new Set(bindings.map((b) => b.method.service))];
}

/**
 * The process's memory budget: configured, or derived from the smallest of
 * the container's limit, server.memoryLimitBytes and V8's heap limit.
 */
function memoryBudget(
  server: { memoryBudgetBytes: number; memoryLimitBytes: number },
  log: Logger,
  share: number,
): MemoryBudget {
  const memoryLimit = server.memoryLimitBytes > 0 ? server.memoryLimitBytes : null;
  const choice = chooseMemoryBudget(
    server.memoryBudgetBytes,
    containerMemoryLimit(),
    heapLimit(),
    memoryLimit,
  );
  if (choice.warning) log.warn(choice.warning);
  log.debug("memory budget", {
    bytes: choice.bytes,
    source: choice.source,
    containerLimit: choice.containerLimit,
    memoryLimit: choice.memoryLimit,
    heapLimit: choice.heapLimit,
  });
  const malloc = fixMmapThreshold();
  if (malloc === "no-ffi" || malloc === "unavailable") {
    log.debug("freed large buffers may stay resident: set MALLOC_MMAP_THRESHOLD_=131072", {
      malloc,
    });
  }
  // Each worker's V8 heap has its own limit; a configured or container budget is the process's.
  return new MemoryBudget(Math.floor(choice.bytes * (choice.source === "heap" ? 1 : share)));
}

type MemoryGuard = import("../overload/memory_limit.ts").MemoryGuard;
type OverloadLimiter = import("../overload/mod.ts").OverloadLimiter;

/**
 * The memory-limit guard, when a limit is in force: `server.memoryLimitBytes`,
 * or (0) the container's; -1 turns it off. Otherwise its module is not loaded.
 */
async function memoryLimitGuard(
  configured: number,
  budget: MemoryBudget,
  log: Logger,
): Promise<MemoryGuard | null> {
  const limitBytes = configured === 0 ? containerMemoryLimit() : configured;
  if (limitBytes === null || limitBytes < 0) return null;
  const source = configured === 0 ? "container" : "config";
  const { startMemoryGuard } = await import("../overload/memory_limit.ts");
  return startMemoryGuard({ limitBytes, source, log, budget });
}

/**
 * Gives memory back after busy spells, and the executable's start-up pages
 * at the first calm moment (overload/idle_reclaim.ts). The
 * modules load with the rest of start-up, when descriptors are to be had
 * (Deno 2.8.3 panics on a module load that meets EMFILE, and a starved
 * process is one this must not crash). The watch starts with the
 * listener, so a burst in the first second counts from the idle figure.
 */
async function idleReclaimFor(log: Logger): Promise<(server: SvcServer) => { stop(): void }> {
  const [
    { startIdleReclaim },
    { processMemorySampler },
    { processReclaimer },
    { releaseExecutablePages },
  ] = await Promise.all([
    import("../overload/idle_reclaim.ts"),
    import("../overload/memory_sampler.ts"),
    import("../overload/memory_reclaim.ts"),
    import("../overload/executable_pages.ts"),
  ]);
  return (server) =>
    startIdleReclaim({
      sampler: processMemorySampler(),
      reclaimer: processReclaimer,
      releaseExecutablePages,
      callsStarted: () => server.callsStarted,
      log,
    });
}

/** Each method's gates: the memory guard's, then the overload limiter's; built-ins never refused. */
function admissionFor(
  overload: OverloadLimiter | null,
  guard: MemoryGuard | null,
): AdmissionFor | undefined {
  const exempt = (service: string) => BUILTIN_SERVICES.has(service);
  const gates = overload?.admissionFor(exempt);
  return guard ? guard.admissionFor(exempt, gates) : gates;
}

function startAdminFor(
  app: LoadedApp,
  metrics: Metrics,
  health: HealthState,
  draining: () => boolean,
  accepting: () => boolean,
  log: Logger,
): Promise<AdminServer> {
  const { host, port } = app.config.admin;
  return startAdmin({
    host,
    port,
    render: () => metrics.render(),
    live: () => true,
    ready: () => {
      if (draining()) return { ready: false, reason: "shutting down" };
      if (!accepting()) return { ready: false, reason: "cannot accept connections" };
      const status = health.get("");
      return status === "SERVING"
        ? { ready: true, reason: "" }
        : { ready: false, reason: `health is ${status}` };
    },
    log,
  });
}
