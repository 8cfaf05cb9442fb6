/**
 * The `tracing` section of the config schema: OpenTelemetry spans and their
 * OTLP export (docs/tracing.md). Kept apart from schema.ts, which it joins
 * as one key.
 * @module
 */
import {
  boolean,
  duration,
  integer,
  number,
  object,
  oneOf,
  record,
  string,
} from "./schema_types.ts";

/** `tracing`: off by default; `OTEL_*` variables apply too (otel_env.ts). */
export const tracing = object({
  enabled: boolean({
    doc: "Trace every call with OpenTelemetry and export over OTLP (docs/tracing.md).",
    default: false,
  }),
  exporter: object({
    protocol: oneOf(["http/protobuf"], { doc: "OTLP transport.", default: "http/protobuf" }),
    endpoint: string({
      doc: "OTLP/HTTP collector URL; one without a path gets `/v1/traces`.",
      default: "http://localhost:4318",
      pattern: /^https?:\/\/[^\s/]+(\/\S*)?$/,
      expected: `an http:// or https:// URL`,
    }),
    headers: record(string({ doc: "" }), {
      doc: "HTTP headers sent with every export (e.g. an API key).",
      default: {},
      keyName: "header",
    }),
    timeout: duration({ doc: "Bound on one export request.", default: "10s", min: 1 }),
  }, { doc: "Where spans go." }),
  sampler: oneOf(
    [
      "parentbased_traceidratio",
      "parentbased_always_on",
      "parentbased_always_off",
      "traceidratio",
      "always_on",
      "always_off",
    ],
    {
      doc: "Which calls are recorded; `parentbased_*` follow the caller's sampled flag.",
      default: "parentbased_traceidratio",
    },
  ),
  ratio: number({
    doc: "Share of new traces sampled by the `*traceidratio` samplers.",
    default: 1,
    min: 0,
    max: 1,
  }),
  resource: record(string({ doc: "" }), {
    doc: "Resource attributes added to `service.name`, `service.version` and the instance id.",
    default: {},
    keyName: "attribute",
  }),
  batch: object({
    maxQueueSize: integer({
      doc: "Ended spans held for export; more are dropped and counted.",
      default: 2048,
      min: 1,
    }),
    maxExportBatchSize: integer({ doc: "Spans per export request.", default: 512, min: 1 }),
    scheduleDelay: duration({ doc: "Longest a span waits for its batch.", default: "5s", min: 1 }),
  }, { doc: "Export batching." }),
  builtins: boolean({ doc: "Trace health and reflection calls too.", default: false }),
}, { doc: "Distributed tracing (OpenTelemetry); `OTEL_*` variables apply too." });
