/**
 * The resource every exported span carries: who made it. `service.name`
 * and `service.version` come from the config's `service` section (as
 * `OTEL_SERVICE_NAME` and `tracing.resource` may override), plus an id for
 * this process, so two replicas' spans are told apart.
 * @module
 */
import { VERSION } from "../core/version.ts";
import type { Attributes } from "./span_data.ts";

/** The resource attributes for a service. */
export function resourceAttributes(
  service: { readonly name: string; readonly version: string },
  configured: Readonly<Record<string, string>>,
): Attributes {
  return {
    "service.name": service.name,
    "service.version": service.version,
    "service.instance.id": crypto.randomUUID(),
    "telemetry.sdk.name": "svc",
    "telemetry.sdk.version": VERSION,
    "process.runtime.name": "deno",
    "process.runtime.version": Deno.version.deno,
    "process.pid": Deno.pid,
    "host.name": hostName(),
    ...configured,
  };
}

function hostName(): string | undefined {
  try {
    return Deno.hostname();
  } catch {
    return undefined; // no --allow-sys in a restricted binary: leave it out
  }
}
