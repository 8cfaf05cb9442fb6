/**
 * `svc run` with `server.workers` > 1: this thread supervises, the workers
 * serve. Everything outside the call path stays here, once for the whole
 * process: the admin server (`/metrics` aggregated over the workers,
 * `/readyz` and `/livez` for the whole), the registry entry, the signals,
 * and app/shutdown.ts's sequence with its bounds (NOT_SERVING →
 * deregister → drain delay → the workers drain within the grace period →
 * close the rest), in which each worker's own server is drained by the
 * worker running that sequence (without its drain delay).
 * @module
 */
import type { Logger } from "../../core/logger.ts";
import { HealthState } from "../../health/state.ts";
import { createMetrics } from "../../metrics/mod.ts";
import { warmMetricsRegistry } from "../../metrics/metrics.ts";
import { warmLazyModules } from "../warm_lazy_modules.ts";
import { helperThreadsWatch } from "../helper_threads.ts";
import { lazyModule } from "../../util/descriptor_headroom.ts";
import { startAdmin } from "../../admin/mod.ts";
import type { AdminServer } from "../../admin/mod.ts";
import { createRegistrar } from "../../registry/registrar.ts";
import type { LoadedApp } from "../load.ts";
import { DEREGISTER_TIMEOUT_MS, type Drainable, shutdown, SHUTDOWN_SLACK_MS } from "../shutdown.ts";
import { keepServingOnStrayRejections, onSignals } from "../signals.ts";
import { WorkerPool } from "./pool.ts";
import { createSharedLimits } from "../../rate_limit/shared_limits.ts";

/** The aggregation of the workers' metrics: at the first scrape, or from the warm-up. */
const loadWorkerMetrics: () => Promise<typeof import("./worker_metrics.ts")> = lazyModule(
  () => import("./worker_metrics.ts"),
  "the workers' metrics",
);

/** What {@link runWorkers} needs besides the app. */
export interface WorkersOptions {
  readonly count: number;
  /** The config file the workers load (the supervisor loaded it first: any mistake has exited 2). */
  readonly configPath: string;
  /** The build manifest module of a built binary, else null. */
  readonly manifest: string | null;
  /** The watchdog's margin beyond the sequence's bound (run.ts). */
  readonly watchdogMarginMs: number;
}

/** Serves `app` on `count` workers until a signal; resolves with the exit code. */
export async function runWorkers(
  app: LoadedApp,
  log: Logger,
  options: WorkersOptions,
): Promise<number> {
  const { config } = app;
  for (const warning of app.warnings) log.warn(warning);
  keepServingOnStrayRejections(log);
  const firstSignal = onSignals((again) => {
    log.warn("second signal; exiting now", { signal: again });
    Deno.exit(130);
  });

  const watchHelpers = await helperThreadsWatch(config.server.yieldHelperThreads, log);
  const pool = new WorkerPool({
    count: options.count,
    configPath: options.configPath,
    manifest: options.manifest,
    port: config.server.port,
    log,
    limits: createSharedLimits(config.rateLimit, options.count),
  });
  const address = await pool.start();
  const services = [...app.handlers.services.keys()];
  const health = new HealthState(services);
  // The supervisor's own series: process metrics and the registry entry.
  const metrics = config.admin.enabled ? createMetrics({ methods: [] }) : null;
  let draining = false;
  let admin: AdminServer | null = null;
  try {
    admin = metrics
      ? await startAdmin({
        host: config.admin.host,
        port: config.admin.port,
        render: async () => {
          const [own, workers] = await Promise.all([metrics.renderJson(), pool.metrics()]);
          const { aggregateMetrics } = await loadWorkerMetrics();
          return aggregateMetrics(own, workers, {
            configured: pool.size,
            serving: pool.serving,
            restarts: pool.restarts,
          });
        },
        live: () => true,
        ready: () => {
          if (draining) return { ready: false, reason: "shutting down" };
          if (pool.serving === 0) return { ready: false, reason: "no worker is serving" };
          const status = health.get("");
          return status === "SERVING"
            ? { ready: true, reason: "" }
            : { ready: false, reason: `health is ${status}` };
        },
        log,
      })
      : null;
  } catch (error) {
    pool.terminate();
    throw error;
  }
  health.setAll("SERVING");
  pool.setHealth("SERVING");
  const helpers = watchHelpers();
  // A scrape's modules load now, while descriptors are to be had (app/warm_lazy_modules.ts).
  const warming = warmLazyModules(metrics ? [warmMetricsRegistry, loadWorkerMetrics] : [], log);
  const registrar = config.registry.type === "etcd"
    ? createRegistrar({
      registry: config.registry,
      services,
      address,
      log,
      metrics,
      version: config.service.version,
    })
    : null;
  registrar?.start();
  log.info("serving", {
    service: config.service.name,
    version: config.service.version,
    address: `${address.host}:${address.port}`,
    port: address.port,
    transport: config.server.transport,
    tls: config.server.tls !== null,
    adminPort: admin?.port ?? null,
    services,
    workers: pool.size,
  });
  const reloadUnsupported = () =>
    log.warn("SIGHUP reload is not supported with server.workers > 1; restart to apply changes");
  Deno.addSignalListener("SIGHUP", reloadUnsupported);

  const signal = await firstSignal;
  Deno.removeSignalListener("SIGHUP", reloadUnsupported);
  log.info("shutdown started", { signal, workers: pool.size });
  const { drainDelay, gracePeriod } = config.shutdown;
  const watchdog = setTimeout(() => {
    log.error("shutdown took too long; exiting now");
    Deno.exit(1);
  }, drainDelay + gracePeriod + SHUTDOWN_SLACK_MS + options.watchdogMarginMs);
  Deno.unrefTimer(watchdog);

  await shutdown({
    settings: config.shutdown,
    health,
    server: workersAsDrainable(pool, gracePeriod + SHUTDOWN_SLACK_MS - DEREGISTER_TIMEOUT_MS, log),
    log,
    markDraining: () => {
      draining = true;
      pool.setHealth("NOT_SERVING");
    },
    deregister: () => registrar?.deregister() ?? Promise.resolve(),
    closeRest: async () => {
      warming.stop();
      helpers.stop();
      await Promise.all([admin?.close(), registrar?.close()]);
    },
  });
  return 0;
}

/**
 * The workers as what the shutdown sequence drains: draining tells each
 * worker to run its own shutdown, which stops accepting, waits the grace
 * period and cancels the rest; closing waits for that, up to `boundMs` in
 * all, then terminates the workers that have not closed.
 */
function workersAsDrainable(pool: WorkerPool, boundMs: number, log: Logger): Drainable {
  let closing: Promise<void> | null = null;
  const close = () =>
    closing ??= pool.shutdown(boundMs).then((closed) => {
      if (!closed) log.warn("shutdown: workers did not close in time; terminated");
    });
  return { drain: close, close, idle: () => Promise.resolve() };
}
