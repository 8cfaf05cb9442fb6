/**
 * The services every svc process serves besides the user's: health (and
 * reflection once wired), from protos compiled into the runtime.
 * @module
 */
import type { ResolvedConfig } from "../config/types.ts";
import { HEALTH_PROTO } from "../health/health_proto.ts";
import { createHealthService, HEALTH_SERVICE } from "../health/service.ts";
import type { HealthState } from "../health/state.ts";
import type { ServiceDefinition } from "../handlers/define.ts";
import { bindMethods, type MethodBinding } from "../handlers/mod.ts";
import { loadProtos } from "../protos/mod.ts";
import type { ProtoSet } from "../protos/types.ts";

/** Built-in services: exempt from rate limits, not in `svc types`. */
export const BUILTIN_SERVICES: ReadonlySet<string> = new Set([HEALTH_SERVICE]);

/** The built-in protos and the bindings of the enabled built-in services. */
export interface Builtins {
  readonly protos: ProtoSet;
  readonly bindings: readonly MethodBinding[];
}

/** Loads the embedded protos and binds the built-ins `config` enables. */
export async function loadBuiltins(config: ResolvedConfig, health: HealthState): Promise<Builtins> {
  const protos = await loadProtos({ files: [], includePaths: [], embedded: [HEALTH_PROTO] });
  const definitions = new Map<string, { definition: ServiceDefinition; file: string }>();
  if (config.health.enabled) {
    definitions.set(HEALTH_SERVICE, {
      definition: createHealthService(health),
      file: "(built in)",
    });
  }
  return { protos, bindings: bindMethods(definitions, protos) };
}
