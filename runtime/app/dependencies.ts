/**
 * Loads the protos of the services handlers call (`dependencies` in the
 * config), so `ctx.clients` has a codec for every method.
 * @module
 */
import type { ResolvedConfig } from "../config/types.ts";
import { type Issue, UserInputError } from "../core/errors.ts";
import { loadProtos, type ProtoSet } from "../protos/mod.ts";
import type { DependencyOptions } from "../client/discovery.ts";
import { didYouMean } from "../util/suggest.ts";

/** Every declared dependency, by fully-qualified service name. */
export async function loadDependencies(
  config: ResolvedConfig,
): Promise<Map<string, DependencyOptions>> {
  const issues: Issue[] = [];
  const dependencies = new Map<string, DependencyOptions>();
  for (const [name, dependency] of Object.entries(config.dependencies)) {
    let protos;
    try {
      protos = await loadProtos({
        files: dependency.protos,
        includePaths: config.protos.includePaths,
      });
    } catch (error) {
      if (error instanceof UserInputError) {
        issues.push(...error.issues);
        continue;
      }
      throw error;
    }
    const service = protos.services.get(name);
    if (!service) {
      const found = [...protos.services.keys()];
      issues.push({
        file: config.file,
        where: `dependencies.${name}.protos`,
        message: `these protos do not declare ${name}${didYouMean(name, found)}; ` +
          `they declare: ${found.join(", ") || "no services"}`,
      });
      continue;
    }
    dependencies.set(name, {
      methods: service.methods,
      static: dependency.addresses,
      balancing: dependency.balancing,
      tls: dependency.tls,
      timeout: dependency.timeout,
      streamTimeout: dependency.streamTimeout,
      retry: dependency.retry,
      retryThrottling: dependency.retryThrottling,
      circuitBreaker: dependency.circuitBreaker,
      outlierDetection: dependency.outlierDetection,
    });
  }
  if (issues.length > 0) throw new UserInputError("dependencies", issues);
  return dependencies;
}

/**
 * Each dependency's protos by service name, for `svc types` (the client
 * interfaces need their message types, which {@link loadDependencies} does
 * not keep). Fails with `svc run`'s messages for every broken dependency.
 */
export async function loadDependencyProtos(
  config: ResolvedConfig,
): Promise<Map<string, ProtoSet>> {
  await loadDependencies(config);
  const protos = new Map<string, ProtoSet>();
  for (const [name, dependency] of Object.entries(config.dependencies)) {
    protos.set(
      name,
      await loadProtos({ files: dependency.protos, includePaths: config.protos.includePaths }),
    );
  }
  return protos;
}
