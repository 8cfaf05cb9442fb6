/**
 * The `dependencies` section of the config schema: the services handlers
 * call through `ctx.clients`, each with how to find it, and its calling
 * policies (timeouts, gRFC A6 retries and throttling, the circuit breaker,
 * outlier ejection). Kept apart from schema.ts, which it joins as one key.
 * @module
 */
import {
  boolean,
  duration,
  integer,
  list,
  nullable,
  number,
  object,
  oneOf,
  path,
  record,
  required,
  string,
} from "./schema_types.ts";

/** gRPC status names as gRPC service configs spell them (`UNAVAILABLE`); OK is never retried. */
const RETRYABLE_CODE_NAMES = [
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

const SERVICE_KEY = {
  keyName: "service",
  keyPattern: /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/,
  keyExpected: `a fully-qualified service name like "pkg.Service"`,
};

/** `dependencies`: by fully-qualified service name. */
export const dependencies = record(
  object({
    protos: required(list(path({ doc: "", mustBe: "file or directory" }), {
      doc: ".proto files or directories declaring the service; imports use protos.includePaths.",
    })),
    addresses: list(string({ doc: "" }), {
      doc: "Static `host:port` list; empty = discover in etcd under registry.prefix.",
      default: [],
    }),
    balancing: oneOf(["round_robin", "pick_first", "p2c"], {
      doc:
        "How calls spread over instances; `p2c`: the less loaded of two random instances (calls in flight x latency).",
      default: "round_robin",
    }),
    timeout: duration({
      doc: "Deadline for unary calls whose caller has none; 0 = none.",
      default: "10s",
    }),
    streamTimeout: duration({
      doc: "Deadline for streaming calls whose caller has none; 0 = none.",
      default: "0s",
    }),
    retry: nullable(object({
      maxAttempts: integer({
        doc: "Attempts per call, the first included (gRFC A6 caps it at 5).",
        default: 3,
        min: 1,
        max: 5,
      }),
      initialBackoff: duration({
        doc: "Upper bound of the first retry's random delay.",
        default: "25ms",
      }),
      maxBackoff: duration({ doc: "Cap of the delay bound as it grows.", default: "1s" }),
      backoffMultiplier: number({
        doc: "Growth of the delay bound per retry.",
        min: 1,
        max: 10,
        default: 2,
      }),
      retryableStatusCodes: list(oneOf(RETRYABLE_CODE_NAMES, { doc: "" }), {
        doc: "Status codes that are retried.",
        default: ["UNAVAILABLE"],
      }),
    }, {
      doc:
        "gRFC A6 retry policy for every method; null = idempotent methods (idempotency_level) get the same defaults, others are not retried.",
    })),
    retryThrottling: object({
      maxTokens: number({
        doc: "Retry tokens; retries stop at half of them or fewer.",
        min: 1,
        max: 1000,
        default: 10,
      }),
      tokenRatio: number({
        doc: "Tokens an OK attempt gives back (a failed one takes 1).",
        min: 0.001,
        max: 1,
        default: 0.1,
      }),
    }, { doc: "gRFC A6 retry throttling: a failing dependency gets no retry storm." }),
    circuitBreaker: object({
      enabled: boolean({
        doc: "Reject calls locally (UNAVAILABLE) while the dependency fails.",
        default: true,
      }),
      window: duration({
        doc: "How far back the breaker counts calls; it reacts and recovers in about this long.",
        default: "2s",
        min: 100,
      }),
      k: number({
        doc:
          "Google SRE client-side throttling's K: requests allowed per accepted one before rejecting; 2 = shed only once over half the calls fail.",
        min: 1,
        max: 10,
        default: 2,
      }),
      minRequests: integer({
        doc: "Calls in the window before the breaker may reject any.",
        default: 10,
        min: 0,
      }),
    }, { doc: "Adaptive circuit breaker for the whole dependency." }),
    outlierDetection: object({
      enabled: boolean({
        doc: "Eject instances whose failure rate stands out (gRFC A50).",
        default: true,
      }),
      interval: duration({ doc: "How often failure rates are compared.", default: "10s", min: 10 }),
      baseEjectionTime: duration({
        doc: "First ejection's length; it grows with each ejection.",
        default: "30s",
      }),
      maxEjectionTime: duration({ doc: "Longest ejection.", default: "300s" }),
      maxEjectionPercent: integer({
        doc: "Most instances ejected at once, in percent.",
        default: 50,
        min: 0,
        max: 100,
      }),
      failurePercentage: integer({
        doc: "Failure share (percent) that ejects an instance.",
        default: 50,
        min: 1,
        max: 100,
      }),
      minimumHosts: integer({
        doc: "Instances with enough calls needed before any is ejected.",
        default: 3,
        min: 1,
      }),
      requestVolume: integer({
        doc: "Calls an instance needs in an interval to be judged.",
        default: 20,
        min: 1,
      }),
    }, { doc: "Outlier ejection per instance." }),
    tls: nullable(object({
      ca: nullable(path({ doc: "CA bundle that verifies the service.", mustBe: "file" })),
      cert: nullable(path({ doc: "Client certificate (mTLS).", mustBe: "file" })),
      key: nullable(path({ doc: "Client key (mTLS).", mustBe: "file" })),
      serverName: nullable(string({ doc: "Name to verify; needed when instances register IPs." })),
    }, { doc: "Call the service over TLS." })),
  }, { doc: "A service handlers call through ctx.clients." }),
  { doc: "Services handlers call through `ctx.clients.get(name)`.", default: {}, ...SERVICE_KEY },
);
