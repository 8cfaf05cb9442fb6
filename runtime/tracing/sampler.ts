/**
 * The samplers `tracing.sampler` names, with the OpenTelemetry SDK's
 * semantics: `traceidratio` samples a share of trace ids, `always_*` all or
 * none, and `parentbased_*` follow a caller's sampled flag, using the named
 * rule only for new traces.
 * @module
 */
import type { SamplerName } from "../config/types.ts";

/** Decides whether a new span records. */
export interface Sampler {
  /**
   * `parentSampled`: the parent's sampled flag, or null for a new trace.
   * `low32`: the low 32 bits of the span's trace id.
   */
  sample(parentSampled: boolean | null, low32: number): boolean;
}

/** The sampler for a `tracing.sampler` name and `tracing.ratio`. */
export function createSampler(name: SamplerName, ratio: number): Sampler {
  // Sampled when the id's low bits fall under ratio × 2^32, so every service
  // with the same ratio makes the same decision for the same trace.
  const bound = Math.min(ratio, 1) * 0x1_0000_0000;
  const byRatio = (low32: number) => ratio >= 1 || low32 < bound;
  switch (name) {
    case "always_on":
      return { sample: () => true };
    case "always_off":
      return { sample: () => false };
    case "traceidratio":
      return { sample: (_parent, low32) => byRatio(low32) };
    case "parentbased_always_on":
      return { sample: (parent) => parent ?? true };
    case "parentbased_always_off":
      return { sample: (parent) => parent ?? false };
    case "parentbased_traceidratio":
      return { sample: (parent, low32) => parent ?? byRatio(low32) };
  }
}
