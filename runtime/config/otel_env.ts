/**
 * The standard OpenTelemetry environment variables (`OTEL_*`), applied onto
 * the raw config tree under `tracing` before validation, so a bad value is
 * reported against the variable that supplied it. They win over the YAML:
 * platforms (the OpenTelemetry Operator, a collector sidecar, a PaaS) set
 * them per environment, while the YAML is the service's own default. `SVC_*`
 * variables are applied after these and win over both.
 * @module
 */

import { type Context, report } from "./context.ts";
import { fromPlain, type MapNode, nodeAt, scalar, setAt } from "./raw.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** The variables read here, for the docs and `svc check`'s listing. */
export const OTEL_VARIABLES = [
  "OTEL_SDK_DISABLED",
  "OTEL_TRACES_EXPORTER",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
  "OTEL_BSP_MAX_QUEUE_SIZE",
  "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
  "OTEL_BSP_SCHEDULE_DELAY",
] as const;

/** Applies every `OTEL_*` variable set (and not empty) in `env` onto `root`. */
export function applyOtelEnv(root: MapNode, env: Env, context: Context): void {
  const get = (name: string) => {
    const value = env[name]?.trim();
    return value ? { name, value } : null;
  };
  const set = (path: string[], name: string, value: unknown) =>
    setAt(root, ["tracing", ...path], scalar(value, { env: name }, true));
  // The signal-specific variable wins over the generic one, as the specification says.
  const either = (specific: string, generic: string) => get(specific) ?? get(generic);

  const exporter = get("OTEL_TRACES_EXPORTER");
  if (exporter && exporter.value !== "otlp") {
    if (exporter.value === "none") set(["enabled"], exporter.name, false);
    else {report(context, [], undefined, `expected "otlp" or "none", got "${exporter.value}"`, {
        env: exporter.name,
      });}
  }
  const disabled = get("OTEL_SDK_DISABLED");
  if (disabled?.value.toLowerCase() === "true") set(["enabled"], disabled.name, false);

  const sampler = get("OTEL_TRACES_SAMPLER");
  if (sampler) set(["sampler"], sampler.name, sampler.value);
  const ratio = get("OTEL_TRACES_SAMPLER_ARG");
  if (ratio) set(["ratio"], ratio.name, ratio.value);

  const traces = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const base = get("OTEL_EXPORTER_OTLP_ENDPOINT");
  // The generic endpoint is a base the signal's path is appended to; the
  // traces endpoint is used as it is.
  if (traces) set(["exporter", "endpoint"], traces.name, traces.value);
  else if (base) {
    set(["exporter", "endpoint"], base.name, `${base.value.replace(/\/+$/, "")}/v1/traces`);
  }
  const protocol = either("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL");
  if (protocol) set(["exporter", "protocol"], protocol.name, protocol.value);
  const timeout = either("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT");
  if (timeout) set(["exporter", "timeout"], timeout.name, _millis(timeout.value));

  for (const name of ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"]) {
    const headers = get(name);
    if (headers) _merge(root, ["tracing", "exporter", "headers"], headers, context);
  }
  const attributes = get("OTEL_RESOURCE_ATTRIBUTES");
  if (attributes) _merge(root, ["tracing", "resource"], attributes, context);
  const serviceName = get("OTEL_SERVICE_NAME");
  if (serviceName) {
    setAt(
      root,
      ["tracing", "resource", "service.name"],
      scalar(serviceName.value, { env: serviceName.name }, true),
    );
  }

  const batch: [string, string, boolean][] = [
    ["OTEL_BSP_MAX_QUEUE_SIZE", "maxQueueSize", false],
    ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "maxExportBatchSize", false],
    ["OTEL_BSP_SCHEDULE_DELAY", "scheduleDelay", true],
  ];
  for (const [name, key, isMillis] of batch) {
    const value = get(name);
    if (value) set(["batch", key], name, isMillis ? _millis(value.value) : value.value);
  }
}

/** OTel's durations are integer milliseconds; svc's durations take a unit. */
function _millis(text: string): string {
  return /^\d+$/.test(text) ? `${text}ms` : text;
}

/**
 * Merges a W3C-baggage-style list (`k1=v1,k2=v2`, values percent-encoded)
 * into the string record at `path`, over what the YAML set.
 */
function _merge(
  root: MapNode,
  path: string[],
  variable: { name: string; value: string },
  context: Context,
): void {
  const origin = { env: variable.name };
  const existing = nodeAt(root, path);
  if (existing?.type !== "map") setAt(root, path, fromPlain({}, origin, true));
  for (const item of variable.value.split(",")) {
    if (item.trim() === "") continue;
    const at = item.indexOf("=");
    const key = at > 0 ? item.slice(0, at).trim() : "";
    if (key === "") {
      report(
        context,
        [],
        undefined,
        `expected "key=value" pairs separated by ",", got "${item}"`,
        origin,
      );
      continue;
    }
    let value = item.slice(at + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch { /* not percent-encoded: taken as written */ }
    setAt(root, [...path, key], scalar(value, origin, true));
  }
}
