/**
 * Checks handler modules against the loaded protos and binds each method.
 * @module
 */
import type { Issue } from "../core/errors.ts";
import type { MethodDescriptor, ProtoSet } from "../protos/types.ts";
import { didYouMean } from "../util/suggest.ts";
import { type AnyMethod, isServiceDefinition, type ServiceDefinition } from "./define.ts";

/** A proto method and the handler function serving it (null: UNIMPLEMENTED). */
export interface MethodBinding {
  readonly method: MethodDescriptor;
  readonly handler: AnyMethod | null;
  /** The handler file, or null when unimplemented. */
  readonly file: string | null;
}

/** The method key of a proto method name: `SayHello` → `sayHello`. */
export function lowerCamel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/**
 * Validates a handler module's default export and binds its methods.
 * Pushes problems to `issues`; returns the definition when usable.
 */
export function checkHandlerModule(
  file: string,
  module: Record<string, unknown>,
  protos: ProtoSet,
  issues: Issue[],
): ServiceDefinition | null {
  const exported = module.default;
  if (exported === undefined) {
    issues.push({ file, message: "has no default export" });
    return null;
  }
  if (!isServiceDefinition(exported)) {
    issues.push({
      file,
      where: "export default",
      message: `is not a service definition (got ${
        describe(exported)
      }); wrap the methods in defineService("pkg.Service", { ... })`,
    });
    return null;
  }
  const service = protos.services.get(exported.service);
  if (!service) {
    const known = [...protos.services.keys()];
    issues.push({
      file,
      where: `defineService("${exported.service}")`,
      message: `unknown service "${exported.service}"${didYouMean(exported.service, known)}; ` +
        `the protos define: ${known.join(", ") || "no services"}`,
    });
    return null;
  }
  let ok = true;
  const seen = new Map<string, string>();
  for (const [key, fn] of Object.entries(exported.methods)) {
    const method = service.methods.find((m) => m.name === key || lowerCamel(m.name) === key);
    if (!method) {
      const names = service.methods.map((m) => lowerCamel(m.name));
      issues.push({
        file,
        where: key,
        message: `"${key}" is not a method of ${service.name}${didYouMean(key, names)}; ` +
          `its methods are: ${names.join(", ")}`,
      });
      ok = false;
      continue;
    }
    if (typeof fn !== "function") {
      issues.push({ file, where: key, message: `must be a function, got ${describe(fn)}` });
      ok = false;
      continue;
    }
    const duplicate = seen.get(method.name);
    if (duplicate) {
      issues.push({
        file,
        where: key,
        message: `${method.name} is already bound as "${duplicate}"`,
      });
      ok = false;
    }
    seen.set(method.name, key);
    const generator = isGeneratorFunction(fn);
    if (generator && (method.kind === "unary" || method.kind === "client_stream")) {
      issues.push({
        file,
        where: key,
        message:
          `${method.name} returns one message (${method.kind}), so it must not be a generator; ` +
          `return the response instead of yielding it`,
      });
      ok = false;
    }
  }
  return ok ? exported : null;
}

/**
 * One binding per method of every service in `definitions`' protos that has
 * a handler file, in proto order. Methods without a handler are bound to null.
 */
export function bindMethods(
  definitions: ReadonlyMap<string, { definition: ServiceDefinition; file: string }>,
  protos: ProtoSet,
): MethodBinding[] {
  const bindings: MethodBinding[] = [];
  for (const [name, { definition, file }] of definitions) {
    const service = protos.services.get(name)!;
    for (const method of service.methods) {
      const handler: AnyMethod | null = definition.methods[method.name] ??
        definition.methods[lowerCamel(method.name)] ?? null;
      bindings.push({ method, handler, file: handler === null ? null : file });
    }
  }
  return bindings;
}

function isGeneratorFunction(fn: unknown): boolean {
  const name = (fn as { constructor?: { name?: string } }).constructor?.name;
  return name === "GeneratorFunction" || name === "AsyncGeneratorFunction";
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return "a plain object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
