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
import { lazyEmbeddedProtos } from "../protos/lazy_embedded.ts";
import type { ProtoSet } from "../protos/types.ts";
import type { Logger } from "../core/logger.ts";
import { startupMark } from "../util/startup_timings.ts";
import { lazyModule } from "../util/descriptor_headroom.ts";
import type { DescriptorIndex } from "../reflection/file_deps.ts";
import { REFLECTION_PROTOS } from "../reflection/reflection_protos.ts";
import {
  createReflectionServices,
  REFLECTION_V1_SERVICE,
  REFLECTION_V1ALPHA_SERVICE,
} from "../reflection/service.ts";

/** Built-in services: exempt from rate limits, not in `svc types`. */
export const BUILTIN_SERVICES: ReadonlySet<string> = new Set([
  HEALTH_SERVICE,
  REFLECTION_V1_SERVICE,
  REFLECTION_V1ALPHA_SERVICE,
]);

const embedded = [HEALTH_PROTO, ...REFLECTION_PROTOS];
/**
 * Parsed once per process, at their first use (protos/lazy_embedded.ts):
 * they never change, and a cold start need not pay for them.
 */
let embeddedProtos: ProtoSet | undefined;

/**
 * Loads reflection's descriptor builders (and protobufjs's descriptor.json):
 * on the first reflection stream, or earlier from app/warm_lazy_modules.ts so
 * that stream needs no module load (none is possible out of descriptors).
 */
export const warmReflection: () => Promise<typeof import("../reflection/descriptors.ts")> =
  lazyModule(() => import("../reflection/descriptors.ts"), "reflection");

/** The bindings of the built-in services `config` enables. */
export interface Builtins {
  readonly bindings: readonly MethodBinding[];
}

/**
 * Loads the embedded protos and binds the enabled built-ins. Reflection
 * describes `userProtos` and the built-ins, and lists every served service.
 */
// Async although nothing is awaited now: callers await it, and a throw stays a rejection.
// deno-lint-ignore require-await
export async function loadBuiltins(
  config: ResolvedConfig,
  health: HealthState,
  userProtos: ProtoSet,
  userServices: Iterable<string>,
  log: Logger,
): Promise<Builtins> {
  const protos = embeddedProtos ??= lazyEmbeddedProtos(embedded);
  const definitions = new Map<string, { definition: ServiceDefinition; file: string }>();
  const add = (definition: ServiceDefinition) =>
    definitions.set(definition.service, { definition, file: "(built in)" });
  if (config.health.enabled) add(createHealthService(health));
  if (config.reflection.enabled) {
    // Built on the first reflection stream: ~40 ms a cold start need not pay.
    let index: Promise<DescriptorIndex> | undefined;
    const buildIndex = () =>
      // The builders (and protobufjs's descriptor.json) load then, not at start.
      index ??= warmReflection().then(({ createDescriptorIndex }) =>
        createDescriptorIndex([protos, userProtos], { embedded })
      ).then((built) => {
        for (const problem of built.problems) {
          log.warn("reflection cannot describe a file; it answers NOT_FOUND for it", { problem });
        }
        return built;
      }, (error) => {
        // Not kept: a load that failed (e.g. EMFILE) is tried again by the next stream.
        index = undefined;
        throw error;
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
