/**
 * Rules that span keys, run after each key has been resolved on its own.
 * @module
 */

import { type Context, report } from "./context.ts";
import type { Path } from "./path.ts";
import { type MapNode, nodeAt } from "./raw.ts";
import type { ResolvedConfig } from "./types.ts";

/** The smallest `server.memoryLimitBytes`: svc holds ~35 MiB of anonymous memory idle. */
export const MIN_MEMORY_LIMIT_BYTES = 64 * 2 ** 20;

type _DeepPartial<T> = T extends object ? { [K in keyof T]?: _DeepPartial<T[K]> } : T;

/** A resolved config in which keys that had issues may be missing. */
export type PartialConfig = _DeepPartial<Omit<ResolvedConfig, "file">>;

/**
 * Reports combinations that are invalid even though each key is: mTLS
 * without a CA, etcd without endpoints, half an etcd client certificate,
 * admin sharing the gRPC port, an overload interval not above its target, a memory limit too small to start in, a memory budget smaller than a few requests
 * of the largest size, and a connection window that cannot hold one.
 *
 * @example
 * ```ts
 * import { checkConfig } from "./checks.ts";
 * import type { Context } from "./context.ts";
 * import { emptyMap } from "./raw.ts";
 * const context: Context = { file: "/a/svc.yaml", dir: "/a", issues: [] };
 * const config = { server: { port: 9090 }, admin: { enabled: true, port: 9090 } };
 * checkConfig(config, emptyMap(), context);
 * context.issues[0].message; // port 9090 is also server.port; pick another
 * ```
 */
export function checkConfig(config: PartialConfig, root: MapNode, context: Context): void {
  const at = (path: Path, message: string) => report(context, path, nodeAt(root, path), message);
  const { server, registry, admin } = config;
  if (server?.tls?.clientAuth === "require" && server.tls.ca === null) {
    at(
      ["server", "tls", "clientAuth"],
      `clientAuth "require" needs "ca", the CA bundle that signs client certificates`,
    );
  }
  if (registry?.type === "etcd" && registry.endpoints?.length === 0) {
    at(["registry", "endpoints"], `registry type "etcd" needs at least one endpoint`);
  }
  const etcdTls = registry?.tls;
  if (etcdTls && (etcdTls.cert === null) !== (etcdTls.key === null)) {
    at(["registry", "tls"], `"cert" and "key" must be given together`);
  }
  const budget = server?.memoryBudgetBytes, maxReceive = server?.maxReceiveMessageBytes;
  if (budget && maxReceive !== undefined && budget < 4 * maxReceive) {
    at(
      ["server", "memoryBudgetBytes"],
      `${budget} cannot hold a few requests of server.maxReceiveMessageBytes (${maxReceive}); ` +
        `use 0 to derive it, or at least ${4 * maxReceive}`,
    );
  }
  const limit = server?.memoryLimitBytes;
  if (limit !== undefined && limit > 0 && limit < MIN_MEMORY_LIMIT_BYTES) {
    at(
      ["server", "memoryLimitBytes"],
      `${limit} bytes is below what svc needs to start (~35 MiB anonymous memory idle); ` +
        `use at least ${MIN_MEMORY_LIMIT_BYTES} (64 MiB), 0 for the container's limit, or -1 for none`,
    );
  }
  // A message being received is held within the connection window (native transport).
  const window = server?.http2?.connectionWindowBytes;
  if (
    server?.transport !== "grpc-js" && window !== undefined && maxReceive !== undefined &&
    window < maxReceive + 5
  ) {
    at(
      ["server", "http2", "connectionWindowBytes"],
      `${window} cannot hold one message of server.maxReceiveMessageBytes (${maxReceive}); ` +
        `raise it to at least ${maxReceive + 5}`,
    );
  }
  const origins = server?.web?.cors?.allowedOrigins;
  if (origins && origins.length > 1 && origins.includes("*")) {
    at(
      ["server", "web", "cors", "allowedOrigins"],
      `"*" allows every origin; it cannot be listed with others`,
    );
  }
  // Only the native transport has the HTTP/1.1 side; silently not serving it would
  // leave browsers and curl failing with nothing in the config to say why.
  if (server?.web?.enabled && server.transport === "grpc-js") {
    at(["server", "web", "enabled"], `gRPC-Web and Connect need server.transport "native"`);
  }
  if (server?.workers !== undefined && server.workers !== 1 && server.transport === "grpc-js") {
    at(["server", "workers"], `workers need server.transport "native"`);
  }
  const overload = config.overload;
  if (
    overload?.targetDelay !== undefined && overload.interval !== undefined &&
    overload.interval <= overload.targetDelay
  ) {
    at(
      ["overload", "interval"],
      `${overload.interval}ms must be longer than overload.targetDelay (${overload.targetDelay}ms)`,
    );
  }
  if (
    admin?.enabled && admin.port !== undefined && admin.port !== 0 && admin.port === server?.port
  ) {
    at(["admin", "port"], `port ${admin.port} is also server.port; pick another`);
  }
}
