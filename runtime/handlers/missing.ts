/**
 * Proto services that no handler file serves, and the file name a handler
 * for each could take, so start-up can say what to add.
 * @module
 */
import { basename } from "node:path";
import type { ProtoSet, ServiceDescriptor } from "../protos/types.ts";

/** A proto service no handler file serves. */
export interface MissingService {
  readonly service: ServiceDescriptor;
  /** A handler file name for it, not taken by another handler file: `route_guide.ts`. */
  readonly fileName: string;
}

/**
 * The services of `protos` that are neither in `served` (name → handler
 * file) nor in `servedElsewhere`, in proto order.
 *
 * @example
 * ```ts
 * missingServices(protos, new Map([["shop.Cart", "/h/cart.ts"]]), new Set());
 * // [{ service: <shop.Stock>, fileName: "stock.ts" }]
 * ```
 */
export function missingServices(
  protos: ProtoSet,
  served: ReadonlyMap<string, string>,
  servedElsewhere: ReadonlySet<string>,
): MissingService[] {
  const taken = new Set([...served.values()].map((file) => basename(file)));
  const missing: MissingService[] = [];
  for (const service of protos.services.values()) {
    if (served.has(service.name) || servedElsewhere.has(service.name)) continue;
    // Two packages may both declare a `Cart`: the second gets its package too.
    let fileName = handlerFileName(service.name);
    if (taken.has(fileName)) fileName = handlerFileName(service.name, { qualified: true });
    taken.add(fileName);
    missing.push({ service, fileName });
  }
  return missing;
}

/**
 * The conventional handler file name of a service: its snake_case short
 * name (`routeguide.RouteGuide` → `route_guide.ts`), or with `qualified` its
 * whole name (`routeguide_route_guide.ts`). Discovery does not need the name
 * to match; it only makes a project easy to find one's way around.
 */
export function handlerFileName(service: string, options: { qualified?: boolean } = {}): string {
  const parts = service.split(".");
  const named = options.qualified ? parts : parts.slice(-1);
  return `${named.map(snakeCase).join("_")}.ts`;
}

/** `RouteGuide` → `route_guide`, `HTTPProxy` → `http_proxy`, `v1` → `v1`. */
function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}
