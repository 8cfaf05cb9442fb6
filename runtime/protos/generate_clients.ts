/**
 * The client half of the `svc types` module: a `<Service>Client` interface
 * per service under `dependencies` in the config, and the
 * `DependencyClients` map that types `ctx.clients.get("pkg.Service")`.
 * Requests are typed as a handler may send a message (`Init`), responses as
 * a handler receives one: a client encodes and decodes with the same codecs
 * a server does, the other way round.
 * @module
 */
import type protobuf from "protobufjs";
import { propertyKey } from "./ts_fields.ts";
import type { TsNames } from "./ts_names.ts";
import { jsDoc, protoFullName } from "./ts_doc.ts";

/**
 * The client interface of one dependency: a function per method under its
 * lowerCamel name, with per-call `ClientCallOptions` (which the module
 * imports from `"svc"`).
 *
 * @example
 * ```ts
 * clientInterface(backend, "BackendClient", names);
 * // export interface BackendClient {
 * //   echo: (request: EchoRequestInit, options?: ClientCallOptions) => Promise<EchoReply>;
 * // }
 * ```
 */
export function clientInterface(
  service: protobuf.Service,
  name: string,
  names: TsNames,
): string[] {
  const fullName = protoFullName(service);
  const usage = `\`ctx.clients.get("${fullName}")\``;
  if (service.methodsArray.length === 0) {
    return [
      `/** Client for \`${fullName}\` (no methods): ${usage}. */`,
      `export type ${name} = Record<string, never>;`,
    ];
  }
  const lines = [
    ...jsDoc(`Client for \`${fullName}\`, a dependency: ${usage}.`, service.comment),
    `export interface ${name} {`,
  ];
  const keys = _methodKeys(service);
  for (const method of service.methodsArray) {
    const req = names.init(method.resolvedRequestType!);
    const res = names.type(method.resolvedResponseType!);
    const requests = `AsyncIterable<${req}> | Iterable<${req}>`;
    const [input, output, kind] = method.requestStream
      ? method.responseStream
        ? [`requests: ${requests}`, `AsyncIterable<${res}>`, "bidi streaming"]
        : [`requests: ${requests}`, `Promise<${res}>`, "client streaming"]
      : method.responseStream
      ? [`request: ${req}`, `AsyncIterable<${res}>`, "server streaming"]
      : [`request: ${req}`, `Promise<${res}>`, "unary"];
    lines.push(
      ...jsDoc(`\`${method.name}\` (${kind}).`, method.comment, "  "),
      `  ${propertyKey(keys.get(method)!)}: (${input}, options?: ClientCallOptions) => ${output};`,
    );
  }
  lines.push("}");
  return lines;
}

/**
 * `DependencyClients`: each dependency's client interface by fully-qualified
 * service name, the type argument of the handlers' `CallContext`. With no
 * dependencies it has no keys, so `ctx.clients.get(name)` is an `object`
 * unless a client type is passed by hand (`get<MyClient>(name)`): any name
 * would throw at run time, as none is declared.
 *
 * @example
 * ```ts
 * dependencyClients([backend], new Map([[backend, "BackendClient"]]));
 * // export interface DependencyClients { "demo.Backend": BackendClient; }
 * ```
 */
export function dependencyClients(
  services: readonly protobuf.Service[],
  clientNames: ReadonlyMap<protobuf.Service, string>,
): string[] {
  if (services.length === 0) {
    return [
      "/** No `dependencies` in the config: `ctx.clients` has no typed clients. */",
      "export type DependencyClients = Record<never, never>;",
    ];
  }
  return [
    "/**",
    " * Clients for the services under `dependencies` in the config, by",
    ' * fully-qualified name: `ctx.clients.get("pkg.Service")` returns the typed client.',
    " */",
    "export interface DependencyClients {",
    ...services.map((s) => `  ${JSON.stringify(protoFullName(s))}: ${clientNames.get(s)};`),
    "}",
  ];
}

/**
 * The key each method is reached by on a runtime client, which holds both
 * the lowerCamel and the proto name: lowerCamel, unless two methods share
 * it (`Get` and `get`); those keep their proto names, which stay distinct.
 */
function _methodKeys(service: protobuf.Service): Map<protobuf.Method, string> {
  const camel = (m: protobuf.Method) => m.name[0].toLowerCase() + m.name.slice(1);
  const counts = new Map<string, number>();
  for (const method of service.methodsArray) {
    counts.set(camel(method), (counts.get(camel(method)) ?? 0) + 1);
  }
  return new Map(
    service.methodsArray.map((m) => [m, counts.get(camel(m))! > 1 ? m.name : camel(m)]),
  );
}
