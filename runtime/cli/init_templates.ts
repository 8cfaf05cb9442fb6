/**
 * The files `svc init` writes, as text. Each template fits `deno fmt`'s
 * defaults (the new directory has no fmt settings), so formatting the new
 * project changes nothing.
 * @module
 */

/** The names one new service is written under, all derived from its directory's name. */
export interface InitNames {
  /** `service.name` in svc.yaml (the registry name): `hello-world`. */
  readonly service: string;
  /** The proto package, and the base name of the .proto and handler files: `hello_world`. */
  readonly pkg: string;
  /** The proto service: `HelloWorld`. */
  readonly protoService: string;
  /** The handlers interface `svc types` generates for it: `HelloWorldHandlers`. */
  readonly handlersType: string;
}

/** The proto service's messages; a service of the same name would clash with them. */
const MESSAGES = ["HelloRequest", "HelloReply"];

/**
 * Names for a service in a directory called `dirName`: the proto package is
 * the name in snake_case, reduced to a valid proto identifier.
 *
 * @example
 * ```ts
 * initNames("Hello World"); // { service: "hello-world", pkg: "hello_world", protoService: "HelloWorld", ... }
 * initNames("2fa"); // pkg "svc_2fa": an identifier cannot start with a digit
 * ```
 */
export function initNames(dirName: string): InitNames {
  let pkg = dirName
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!/^[a-z]/.test(pkg)) pkg = pkg ? `svc_${pkg}` : "svc";
  let protoService = pkg.split("_").map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join("");
  // "ServiceHandlers" is a name the generated types module declares itself.
  if (MESSAGES.includes(protoService) || protoService === "Service") protoService += "Service";
  return {
    service: pkg.replaceAll("_", "-"),
    pkg,
    protoService,
    handlersType: `${protoService}Handlers`,
  };
}

/** `svc.yaml`: the smallest config that serves, with the keys a newcomer changes first. */
export function configTemplate(names: InitNames): string {
  return `# ${names.service}: written by svc init. Every key not set here has a default;
# docs/config.md in the svc checkout lists them all. Relative paths resolve
# against this file's directory. Any key can be overridden by an environment
# variable, e.g. SVC_SERVER_PORT=0 or SVC_LOGGING_FORMAT=pretty.

service:
  name: ${JSON.stringify(names.service)} # the name other services find this one by
  version: "0.1.0" # published in the registry

server:
  port: 50051 # 0 picks a free port (the chosen one is logged)

protos:
  files: [proto] # .proto files, or directories searched recursively

handlers: handlers # one file per service; files starting with _ are not served

admin: # HTTP: /metrics, /healthz, /readyz
  port: 9090

# registry: # off by default; this registers the service in etcd
#   type: etcd
#   endpoints: [http://127.0.0.1:2379]

# logging:
#   format: pretty # easier to read in a terminal than the default json
`;
}

/** `proto/<pkg>.proto`: one service with one unary method. */
export function protoTemplate(names: InitNames): string {
  return `// ${names.pkg}.${names.protoService}: written by svc init as a starting point.
// After changing this file, run \`svc types\` to regenerate handlers/_types.ts.
syntax = "proto3";

package ${names.pkg};

// Greets whoever calls.
service ${names.protoService} {
  // Unary: one request, one reply.
  rpc SayHello(HelloRequest) returns (HelloReply);
}

// Who to greet.
message HelloRequest {
  string name = 1;
}

// The greeting.
message HelloReply {
  string message = 1;
}
`;
}

/** `handlers/<pkg>.ts`: the service's handler, typed by the generated `_types.ts`. */
export function handlerTemplate(names: InitNames): string {
  const full = `${names.pkg}.${names.protoService}`;
  return `/**
 * The ${full} service (proto/${names.pkg}.proto).
 *
 * Try it, with the service running (\`svc run svc.yaml\`):
 * \`\`\`sh
 * grpcurl -plaintext -d '{"name":"Ada"}' localhost:50051 ${full}/SayHello
 * \`\`\`
 * @module
 */
import { defineService, RpcError, Status } from "svc";
import type { ${names.handlersType} } from "./_types.ts";

/** Longest name greeted; longer ones are refused with INVALID_ARGUMENT. */
const MAX_NAME_LENGTH = 200;

export default defineService<${names.handlersType}>("${full}", {
  sayHello(req) {
    if (req.name.length > MAX_NAME_LENGTH) {
      throw new RpcError(
        Status.INVALID_ARGUMENT,
        \`name is longer than \${MAX_NAME_LENGTH} characters\`,
      );
    }
    return { message: \`Hello, \${req.name || "world"}!\` };
  },
});
`;
}

/**
 * `deno.json`: lets `deno check`, `deno lint` and editors resolve the
 * handler's imports. `imports` maps `"svc"` and the runtime's own bare
 * imports to absolute targets; `svc run` itself uses the runtime's config.
 */
export function denoJsonTemplate(
  imports: Readonly<Record<string, string>>,
  compilerOptions: Readonly<Record<string, unknown>>,
): string {
  // npm packages come from Deno's global cache, so the service directory
  // gets no node_modules of its own.
  return JSON.stringify({ nodeModulesDir: "none", compilerOptions, imports }, null, 2) + "\n";
}

/** `.gitignore`: what svc build and Deno write that does not belong in git. */
export const GITIGNORE = `# svc build output (manifest, entry module, binary)
dist/
# npm packages, should nodeModulesDir be set to "auto"
node_modules/
`;
