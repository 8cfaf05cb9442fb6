/**
 * The services every svc process serves besides the user's: health and
 * reflection, from protos compiled into the runtime.
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
import type { Logger } from "../core/logger.ts";
import { startupMark } from "../util/startup_timings.ts";
import {
  createDescriptorIndex,
  createReflectionServices,
  type DescriptorIndex,
  REFLECTION_PROTOS,
  REFLECTION_V1_SERVICE,
  REFLECTION_V1ALPHA_SERVICE,
} from "../reflection/mod.ts";

/** Built-in services: exempt from rate limits, not in `svc types`. */
export const BUILTIN_SERVICES: ReadonlySet<string> = new Set([
  HEALTH_SERVICE,
  REFLECTION_V1_SERVICE,
  REFLECTION_V1ALPHA_SERVICE,
]);

const embedded = [HEALTH_PROTO, ...REFLECTION_PROTOS];
/** Parsed once per process: they never change, and live reload would parse them each time. */
let embeddedProtos: Promise<ProtoSet> | undefined;

/** The bindings of the built-in services `config` enables. */
export interface Builtins {
  readonly bindings: readonly MethodBinding[];
}

/**
 * Loads the embedded protos and binds the enabled built-ins. Reflection
 * describes `userProtos` and the built-ins, and lists every served service.
 */
export async function loadBuiltins(
  config: ResolvedConfig,
  health: HealthState,
  userProtos: ProtoSet,
  userServices: Iterable<string>,
  log: Logger,
): Promise<Builtins> {
  const protos = await (embeddedProtos ??= loadProtos({ files: [], includePaths: [], embedded })
    .catch((error) => {
      embeddedProtos = undefined;
      throw error;
    }));
  const definitions = new Map<string, { definition: ServiceDefinition; file: string }>();
  const add = (definition: ServiceDefinition) =>
    definitions.set(definition.service, { definition, file: "(built in)" });
  if (config.health.enabled) add(createHealthService(health));
  if (config.reflection.enabled) {
    // Built on the first reflection stream: ~40 ms a cold start need not pay.
    let index: Promise<DescriptorIndex> | undefined;
    const buildIndex = () =>
      index ??= createDescriptorIndex([protos, userProtos], { embedded }).then((built) => {
        for (const problem of built.problems) {
          log.warn("reflection cannot describe a file; it answers NOT_FOUND for it", { problem });
        }
        return built;
      });
    const served = [...userServices, ...BUILTIN_SERVICES].filter((name) =>
      name === HEALTH_SERVICE ? config.health.enabled : true
    );
    for (const service of createReflectionServices(buildIndex, () => served)) add(service);
  }
  const bindings = bindMethods(definitions, protos);
  startupMark("builtins");
  return { bindings };
}
