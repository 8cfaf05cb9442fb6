/**
 * grpc.health.v1.Health served from a HealthState.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import { defineService, type ServiceDefinition } from "../handlers/define.ts";
import type { CallContext } from "../core/context.ts";
import type { HealthState } from "./state.ts";

/** Fully-qualified name of the health service. */
export const HEALTH_SERVICE = "grpc.health.v1.Health";

/**
 * The health service: `Check` answers NOT_FOUND for unknown services;
 * `Watch` sends SERVICE_UNKNOWN for them and keeps the stream open, pushes
 * every change at once, and ends UNAVAILABLE at shutdown.
 */
export function createHealthService(state: HealthState): ServiceDefinition {
  return defineService(HEALTH_SERVICE, {
    check(req: { service: string }) {
      const status = state.get(req.service);
      if (!status) throw new RpcError(Status.NOT_FOUND, `unknown service "${req.service}"`);
      return { status };
    },

    list() {
      const statuses: Record<string, { status: string }> = {};
      for (const service of state.services()) statuses[service] = { status: state.get(service)! };
      return { statuses };
    },

    async *watch(req: { service: string }, ctx: CallContext) {
      for await (const status of state.watch(req.service, ctx.signal)) yield { status };
      if (state.closing.aborted) {
        throw new RpcError(Status.UNAVAILABLE, "server is shutting down");
      }
    },
  });
}
