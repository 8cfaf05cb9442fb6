/**
 * The `svc` commands. Each returns an exit code; user mistakes are thrown as
 * UserInputError and turned into exit code 2 by `main()`.
 * @module
 */
import { dirname, join, relative } from "node:path";
import { loadDependencyProtos } from "../app/dependencies.ts";
import { loadApp, type LoadAppOptions } from "../app/load.ts";
import { createModuleVersions } from "../app/module_versions.ts";
import { runApp } from "../app/run.ts";
import { loadConfig } from "../config/mod.ts";
import { generateTypes, loadProtos } from "../protos/mod.ts";
import { VERSION } from "./usage.ts";

/** `svc run [CONFIG]`; SIGHUP reloads. */
export async function runCommand(
  config: string,
  options: LoadAppOptions & { manifest?: string } = {},
): Promise<number> {
  const { manifest, ...load } = options;
  // Versions from the first load on, so a SIGHUP imports only changed files again.
  const loadOptions = { ...load, moduleVersion: createModuleVersions() };
  const app = await loadApp(config, loadOptions);
  return await runApp(app, undefined, {
    reloadFrom: { configPath: config, loadOptions },
    manifest,
  });
}

/** `svc check [CONFIG]`: prints what would be served. */
export async function checkCommand(
  config: string,
  options: LoadAppOptions = {},
): Promise<number> {
  const app = await loadApp(config, options);
  const lines = [
    `config  ${
      rel(app.config.file)
    } (service "${app.config.service.name}" ${app.config.service.version})`,
  ];
  for (const file of app.protos.files) lines.push(`proto   ${rel(file)}`);
  let methods = 0;
  let handled = 0;
  for (const [service, file] of app.handlers.services) {
    lines.push(`serves  ${service}  (${rel(file)})`);
    for (const binding of app.handlers.bindings.filter((b) => b.method.service === service)) {
      methods++;
      if (binding.handler) handled++;
      const state = binding.handler ? "ok" : "UNIMPLEMENTED";
      lines.push(
        `          ${binding.method.name.padEnd(24)} ${binding.method.kind.padEnd(14)} ${state}`,
      );
    }
  }
  // Not served, so no calls to them succeed; a warning, not an error: a
  // shared proto file may well declare services this process leaves alone.
  for (const { service } of app.handlers.missing) {
    lines.push(`missing ${service.name}  (${rel(service.file)}; no handler file)`);
  }
  for (const [name, dependency] of app.dependencies) {
    const from = dependency.static?.length ? dependency.static.join(", ") : "etcd";
    lines.push(`calls   ${name}  (${dependency.methods.length} methods, from ${from})`);
  }
  if (app.config.registry.type === "etcd") {
    lines.push(
      `registry etcd ${
        app.config.registry.endpoints.join(", ")
      } prefix "${app.config.registry.prefix}"`,
    );
  }
  for (const warning of app.warnings) lines.push(`warning: ${warning}`);
  const services = app.handlers.services.size;
  const missing = app.handlers.missing.length;
  lines.push(
    `ok: ${services} service${
      services === 1 ? "" : "s"
    }, ${methods} methods, ${handled} with handlers` +
      (missing > 0
        ? `; ${missing} proto service${missing === 1 ? "" : "s"} without a handler file`
        : ""),
  );
  console.log(lines.join("\n"));
  return 0;
}

/**
 * `svc types [CONFIG] [-o FILE]`: types for the served protos, and typed
 * clients for the services under `dependencies`.
 */
export async function typesCommand(config: string, output: string | undefined): Promise<number> {
  const resolved = await loadConfig(config);
  const protos = await loadProtos(resolved.protos);
  const dependencies = await loadDependencyProtos(resolved);
  const file = output ?? join(resolved.handlers, "_types.ts");
  await Deno.mkdir(dirname(file), { recursive: true });
  await Deno.writeTextFile(file, generateTypes(protos, dependencies));
  const clients = dependencies.size === 0
    ? ""
    : `, ${dependencies.size} client${dependencies.size === 1 ? "" : "s"}`;
  console.log(
    `wrote ${relative(Deno.cwd(), file) || file} (${protos.services.size} services${clients})`,
  );
  return 0;
}

/** `svc build [CONFIG] [-o FILE]`: manifest, entry module, `deno compile`. */
export async function buildCommand(
  config: string,
  output: string | undefined,
  allowRead: readonly string[] = [],
): Promise<number> {
  // Only svc build needs the build code; svc run starts without loading it.
  const { buildBinary } = await import("./build/mod.ts");
  const result = await buildBinary({ config, output, allowRead });
  const { size } = await Deno.stat(result.output);
  const lines = [`manifest ${rel(result.manifest.file)}`];
  for (const file of result.manifest.handlers) lines.push(`  handler    ${rel(file)}`);
  for (const file of result.manifest.middleware) lines.push(`  middleware ${rel(file)}`);
  for (const file of result.manifest.clientMiddleware) {
    lines.push(`  client middleware ${rel(file)}`);
  }
  lines.push(`entry    ${rel(result.entry)}`);
  const granted = result.args.find((a) => a.startsWith("--allow-read="));
  if (granted) lines.push(`reads    ${granted.slice("--allow-read=".length)}`);
  lines.push(`compiled deno ${result.args.join(" ")}`);
  lines.push(`wrote    ${rel(result.output)} (${(size / 2 ** 20).toFixed(1)} MiB)`);
  console.log(lines.join("\n"));
  return 0;
}

/** `svc version`. */
export function versionCommand(): number {
  const grpcJs = import.meta.resolve("@grpc/grpc-js").match(/@grpc[/+]grpc-js@([^/]+)/)?.[1] ??
    "unknown";
  console.log(
    `svc ${VERSION}\ndeno ${Deno.version.deno}\nv8 ${Deno.version.v8}\ntypescript ${Deno.version.typescript}\ngrpc-js ${grpcJs}`,
  );
  return 0;
}

// Paths under the working directory read better relative.
function rel(path: string): string {
  const short = relative(Deno.cwd(), path) || ".";
  return short.startsWith("..") ? path : short;
}
