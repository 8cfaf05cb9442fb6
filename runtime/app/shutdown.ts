/**
 * Graceful shutdown, in the contract's order, every step bounded:
 * NOT_SERVING → deregister → drain delay → stop accepting → grace period →
 * cancel the rest → flush queued spans and close admin and the rest.
 * @module
 */
import type { ResolvedShutdown } from "../config/types.ts";
import type { HealthState } from "../health/state.ts";
import type { Logger } from "../core/logger.ts";
import { withTimeout } from "../server/server.ts";

/**
 * How long deregistration may take before shutdown goes on without it (the
 * key then expires with its lease). It runs inside the drain delay, so it
 * adds time only when it outlasts `drainDelay`.
 */
export const DEREGISTER_TIMEOUT_MS = 1_500;
/** How long cancelled calls get to unwind before the listener is torn down. */
const CANCEL_SETTLE_MS = 500;
/** How long closing admin, the etcd clients and the dependency clients may take. */
const CLOSE_REST_TIMEOUT_MS = 1_000;
/**
 * How long the spans still queued get to reach the collector once the last
 * call has ended (tracing on), beside closing the rest: a local collector
 * takes milliseconds for a full queue; one that hangs costs this much.
 */
export const TELEMETRY_FLUSH_TIMEOUT_MS = CLOSE_REST_TIMEOUT_MS;
/**
 * The most the sequence takes beyond `drainDelay + gracePeriod`, whatever
 * etcd, the collector and the handlers do: deregistration outlasting a
 * short drain delay, cancelled calls settling, flushing spans while closing
 * the rest. 3 s.
 */
export const SHUTDOWN_SLACK_MS = DEREGISTER_TIMEOUT_MS + CANCEL_SETTLE_MS + CLOSE_REST_TIMEOUT_MS;

/**
 * What the sequence drains: the server (a SvcServer), or with
 * `server.workers` the workers, each running this sequence on its own
 * server (app/workers/run_workers.ts).
 */
export interface Drainable {
  /** Calls in flight, where known (a log field). */
  readonly inFlight?: number;
  /** Stops accepting calls; resolves when none is in flight. */
  drain(): Promise<void>;
  /** Cancels the calls left and closes the listeners. */
  close(): Promise<void>;
  /** Waits up to `ms` for cancelled calls to unwind. */
  idle(ms: number): Promise<unknown>;
}

/** What the shutdown sequence acts on. */
export interface ShutdownParts {
  readonly settings: ResolvedShutdown;
  readonly health: HealthState;
  readonly server: Drainable;
  readonly log: Logger;
  /** Marks the process not ready (`/readyz` fails) as step 1. */
  markDraining(): void;
  /** Removes the registry key; bounded here by {@link DEREGISTER_TIMEOUT_MS}. */
  deregister(): Promise<void>;
  /**
   * Sends what telemetry is still queued (the spans of the last calls);
   * given its bound, {@link TELEMETRY_FLUSH_TIMEOUT_MS}, and bounded here too.
   * Absent when tracing is off.
   */
  flushTelemetry?(boundMs: number): Promise<void>;
  /** Closes the admin server, registry client and the rest; bounded too. */
  closeRest(): Promise<void>;
}

/** Runs the shutdown sequence; resolves when everything is closed. */
export async function shutdown(parts: ShutdownParts): Promise<void> {
  const { settings, health, server, log } = parts;
  const started = performance.now();
  const step = (msg: string, fields: Record<string, unknown> = {}) =>
    log.info(`shutdown: ${msg}`, { elapsedMs: Math.round(performance.now() - started), ...fields });

  health.setAll("NOT_SERVING");
  parts.markDraining();
  step("health NOT_SERVING", { inFlight: server.inFlight });

  // drainDelay counts from NOT_SERVING; deregistering is part of it, not added to it.
  const delay = settings.drainDelay > 0
    ? new Promise((resolve) => setTimeout(resolve, settings.drainDelay))
    : null;
  const deregistered = await withTimeout(
    parts.deregister().catch(() => {}),
    DEREGISTER_TIMEOUT_MS,
  );
  step(deregistered ? "deregistered" : "deregistration timed out; the key expires with its lease");
  await delay;
  // Watch streams would hold the drain open; their watchers already saw
  // NOT_SERVING, so end them now.
  health.close();
  step("stopped accepting calls", { inFlight: server.inFlight });
  const drained = await withTimeout(server.drain(), settings.gracePeriod);
  if (!drained) step("grace period over; cancelling calls", { inFlight: server.inFlight });
  await server.close();
  await server.idle(CANCEL_SETTLE_MS);
  step("server closed", { inFlight: server.inFlight });

  // After the last call ended, so its span is queued; beside closing the rest, within its bound.
  // A little less than the step's bound, so the exporter can still log what it could not send.
  const flushing = parts.flushTelemetry?.(TELEMETRY_FLUSH_TIMEOUT_MS - 100).then(
    () => step("spans flushed"),
    () => {},
  );
  await withTimeout(
    Promise.all([flushing, parts.closeRest().catch(() => {})]),
    CLOSE_REST_TIMEOUT_MS,
  );
  step("complete");
}
