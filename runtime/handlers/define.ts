/**
 * `defineService()`: the default export of every handler file.
 * @module
 */

// A registry-wide symbol, so a definition is recognised even if a handler
// file reached runtime/mod.ts through a different specifier.
const SERVICE_DEFINITION: unique symbol = Symbol.for("svc.service-definition") as never;

/** Any handler method: unary, client, server or bidi streaming. */
// deno-lint-ignore no-explicit-any
export type AnyMethod = (request: any, ctx: any) => unknown;

/** What `defineService()` returns and a handler file exports by default. */
export interface ServiceDefinition {
  readonly [SERVICE_DEFINITION]: true;
  /** Fully-qualified service name, e.g. `helloworld.Greeter`. */
  readonly service: string;
  /** Methods by the key the user wrote (proto name or lowerCamel). */
  readonly methods: Readonly<Record<string, AnyMethod>>;
}

/**
 * Binds a fully-qualified service name to its methods. Pass a generated
 * interface (from `svc types`) as `T` to type-check every method.
 *
 * @example
 * ```ts
 * import { defineService } from "svc";
 * export default defineService("helloworld.Greeter", {
 *   sayHello(req) {
 *     return { message: `Hello ${req.name}` };
 *   },
 * });
 * ```
 */
export function defineService<T extends object = Record<string, AnyMethod>>(
  service: string,
  methods: T,
): ServiceDefinition {
  return Object.freeze({
    [SERVICE_DEFINITION]: true as const,
    service,
    methods: Object.freeze({ ...methods }) as unknown as Record<string, AnyMethod>,
  });
}

/** True when `value` came from `defineService()`. */
export function isServiceDefinition(value: unknown): value is ServiceDefinition {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[SERVICE_DEFINITION] === true;
}
