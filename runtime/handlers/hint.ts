/**
 * The sketch of a handler file shown once after handler-file problems,
 * drawn from the user's own protos so it can be copied as it is.
 * @module
 */
import type { MethodDescriptor, ServiceDescriptor } from "../protos/types.ts";
import { lowerCamel } from "./bind.ts";

/** What a handler file looks like when no proto declares a service to sketch. */
export const HANDLER_FILE_HINT = `a handler file looks like this:

  import { defineService } from "svc";
  export default defineService("helloworld.Greeter", {
    sayHello(req, ctx) {
      return { message: \`Hello \${req.name}\` };
    },
  });`;

/**
 * A handler file for `service`: its real name, its first method in the
 * shape its call kind needs, the other methods named. The generic
 * {@link HANDLER_FILE_HINT} when there is no service.
 *
 * @example
 * ```ts
 * const hint = handlerFileHint(protos.services.get("shop.Cart"));
 * // `export default defineService("shop.Cart", {` and then `add(req, ctx) {`
 * // returning `{ ... a shop.Total ... }`, since shop.Cart's first method is unary.
 * ```
 */
export function handlerFileHint(service: ServiceDescriptor | undefined): string {
  if (!service) return HANDLER_FILE_HINT;
  const [first, ...rest] = service.methods;
  const body = first ? [...methodSketch(first), ...othersLine(rest)] : [];
  return [
    "a handler file looks like this:",
    "",
    `  import { defineService } from "svc";`,
    `  export default defineService(${JSON.stringify(service.name)}, {`,
    ...body.map((line) => `    ${line}`),
    "  });",
  ].join("\n");
}

/** The first method, written the way its call kind is served. */
function methodSketch(method: MethodDescriptor): string[] {
  const key = lowerCamel(method.name);
  const request = method.requestType;
  const response = `{ /* a ${method.responseType} */ }`;
  switch (method.kind) {
    case "unary":
      return [
        `${key}(req, ctx) { // unary: req is a ${request}; return the reply`,
        `  return ${response};`,
        "},",
      ];
    case "server_stream":
      return [
        `async *${key}(req, ctx) { // server streaming: req is a ${request}; yield each reply`,
        `  yield ${response};`,
        "},",
      ];
    case "client_stream":
      return [
        `async ${key}(reqs, ctx) { // client streaming: reqs is an async iterable of ${request}`,
        `  for await (const req of reqs) { /* each a ${request} */ }`,
        `  return ${response};`,
        "},",
      ];
    case "bidi_stream":
      return [
        `async *${key}(reqs, ctx) { // bidi: reqs is an async iterable of ${request}; yield replies`,
        `  for await (const req of reqs) yield ${response};`,
        "},",
      ];
  }
}

function othersLine(rest: readonly MethodDescriptor[]): string[] {
  if (rest.length === 0) return [];
  return [`// and the other methods: ${rest.map((m) => lowerCamel(m.name)).join(", ")}`];
}
