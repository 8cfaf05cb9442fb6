/**
 * The resolved config: every key present, defaults filled in, durations in
 * milliseconds, relative paths made absolute against the config file's
 * directory. Produced once by `loadConfig()` and frozen.
 * @module
 */

/** `server.tls`. */
export interface ResolvedTls {
  /** PEM certificate chain file (absolute path). */
  cert: string;
  /** PEM private key file (absolute path). */
  key: string;
  /** PEM CA bundle used to verify client certificates, or null. */
  ca: string | null;
  /** `none` (default) or `require` (mTLS: clients must present a cert signed by `ca`). */
  clientAuth: "none" | "require";
}

/** `server.keepalive`, all in milliseconds. */
export interface ResolvedKeepalive {
  /** Server pings an idle connection after this long. Default 2h (7200000). */
  time: number;
  /** Connection closed if a ping is not answered within this. Default 20s. */
  timeout: number;
  /** Close connections idle (no calls) for this long. Default 30m. 0 = never. */
  maxConnectionIdle: number;
  /** Gracefully close connections older than this. Default 2h. 0 = never. */
  maxConnectionAge: number;
  /** Time in-flight calls get after maxConnectionAge. Default 30s. */
  maxConnectionAgeGrace: number;
}

/** `server.http2`: HTTP/2 settings and flood limits, read by the native transport only. */
export interface ResolvedHttp2 {
  /** Largest request header list (SETTINGS_MAX_HEADER_LIST_SIZE). Default 16384. */
  maxHeaderListBytes: number;
  /** Per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE). Default 1 MiB (1048576). */
  initialWindowBytes: number;
  /** Receive window for a whole connection. Default 16 MiB (16777216). */
  connectionWindowBytes: number;
  /** SETTINGS_MAX_FRAME_SIZE advertised. Default 16384. */
  maxFrameBytes: number;
  /** Stream resets per second a connection may cause, sustained. Default 100. */
  resetRate: number;
  /** Stream resets a connection may cause at once. Default 1000. */
  resetBurst: number;
  /** PING, SETTINGS, PRIORITY and empty DATA/CONTINUATION frames per second. Default 1000. */
  controlFrameRate: number;
  /** Such frames a connection may send at once. Default 10000. */
  controlFrameBurst: number;
  /** Time to finish TLS and send the preface and SETTINGS, in ms. Default 10s (10000). */
  prefaceTimeout: number;
  /** Bytes queued for the socket before the server stops reading. Default 4 MiB (4194304). */
  maxOutputBytes: number;
}

/** `server.web.cors`: which browser origins may call; off while `allowedOrigins` is empty. */
export interface ResolvedWebCors {
  /** Exact origins (`scheme://host[:port]`, lower-cased) or `["*"]`. Default [] (CORS off). */
  allowedOrigins: string[];
  /** Send `Access-Control-Allow-Credentials: true` (and echo the origin for `*`). Default false. */
  allowCredentials: boolean;
  /** Request headers allowed beyond the built-in Connect/gRPC-Web ones. Default []. */
  allowedHeaders: string[];
  /** Response headers exposed beyond the built-in Connect/gRPC-Web ones. Default []. */
  exposedHeaders: string[];
  /** Access-Control-Max-Age of preflight answers, in ms. Default 2h (7200000). */
  maxAge: number;
}

/** `server.web`: gRPC-Web and Connect over HTTP/1.1 on the gRPC port (native transport only). */
export interface ResolvedWeb {
  /** Default false: every plaintext connection's first bytes are sniffed when on. */
  enabled: boolean;
  /** Request line and headers, bytes. Default 16384. */
  maxHeadBytes: number;
  /** Header fields per request. Default 100. */
  maxHeaderCount: number;
  /** A request head must complete within this, in ms. Default 10s. */
  headTimeout: number;
  /** Longest body (or response write) stall, in ms. Default 30s. */
  bodyIdleTimeout: number;
  /** Idle keep-alive connections close after this, in ms. Default 60s. */
  keepAliveIdle: number;
  /** Cross-origin browser access; off by default. */
  cors: ResolvedWebCors;
}

/** `server`. */
export interface ResolvedServer {
  /** Default `0.0.0.0`. */
  host: string;
  /** Default 50051. 0 picks a free port (logged at start). */
  port: number;
  /** Default `native`; `grpc-js` is the fallback. */
  transport: "native" | "grpc-js";
  /** null when plaintext (default). */
  tls: ResolvedTls | null;
  /** Default 4 MiB (4194304). Larger requests end RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes: number;
  /** Estimated bytes one request may cost once decoded. */
  maxDecodedMessageBytes: number;
  /** 0 = derived from the container's and V8's limits (util/container_memory.ts). */
  memoryBudgetBytes: number;
  /**
   * The memory-limit guard's limit (overload/memory_guard.ts): 0 = the
   * cgroup's limit if any, else off; -1 = off; else bytes (≥ 64 MiB).
   */
  memoryLimitBytes: number;
  /** Give memory back after busy spells (overload/idle_reclaim.ts). Default true. */
  reclaimIdleMemory: boolean;
  /** V8's helper threads at nice 19 while the event loop has time to spare (overload/helper_priority.ts). Default true. */
  yieldHelperThreads: boolean;
  /** Default 4 MiB. Larger responses end RESOURCE_EXHAUSTED. */
  maxSendMessageBytes: number;
  /** Per HTTP/2 connection. Default 1000. */
  maxConcurrentStreams: number;
  /** Per HTTP/2 connection, in MiB. Default 64 (grpc-js default is unlimited). */
  maxSessionMemoryMb: number;
  keepalive: ResolvedKeepalive;
  http2: ResolvedHttp2;
  web: ResolvedWeb;
  /** Response compression: `identity` (default) or `gzip`. Requests in any supported encoding are accepted. */
  compression: "identity" | "gzip";
  /** Event loops serving the port (app/workers/). Default 1; 0 = one per available core. */
  workers: number;
}

/** `protos`. */
export interface ResolvedProtos {
  /** .proto files or directories (searched recursively), absolute. Default `["proto"]`. */
  files: string[];
  /** Extra import roots, absolute. Each file's own root is always searched. Default `[]`. */
  includePaths: string[];
}

/** `admin`. */
export interface ResolvedAdmin {
  /** Default true. */
  enabled: boolean;
  /** Default `0.0.0.0`. */
  host: string;
  /** Default 9090. 0 picks a free port. */
  port: number;
}

/** `registry.auth`. */
export interface ResolvedRegistryAuth {
  username: string;
  password: string;
}

/** `registry.tls` (etcd client TLS), absolute paths or null. */
export interface ResolvedRegistryTls {
  ca: string | null;
  cert: string | null;
  key: string | null;
}

/** `registry`. */
export interface ResolvedRegistry {
  /** Default `none`. */
  type: "none" | "etcd";
  /** Default `["http://127.0.0.1:2379"]`. */
  endpoints: string[];
  /** Default `services`. Keys are `<prefix>/<service>/<host:port>`. */
  prefix: string;
  /** Lease TTL in ms. Default 10s. */
  ttl: number;
  /** Address others dial (`host:port`). Default "" = derived at start. */
  advertise: string;
  /** Goes into the value's `Metadata`, as a query string. Default `{}`. */
  metadata: Record<string, string>;
  auth: ResolvedRegistryAuth | null;
  tls: ResolvedRegistryTls | null;
}

/** `dependencies.<service>.tls`, absolute paths or null. */
export interface ResolvedDependencyTls {
  ca: string | null;
  cert: string | null;
  key: string | null;
  /** TLS server name to verify (instances usually register IP addresses). */
  serverName: string | null;
}

/** `dependencies.<service>`: a service handlers call through `ctx.clients`. */
export interface ResolvedDependency {
  /** .proto files or directories declaring it, absolute. */
  protos: string[];
  /** Static `host:port` list; empty = discover in etcd. Default `[]`. */
  addresses: string[];
  /** Default `round_robin`. */
  balancing: "round_robin" | "pick_first" | "p2c";
  /** Deadline (ms) for unary calls whose caller has none; 0 = none. Default 10 s. */
  timeout: number;
  /** The same for streaming calls. Default 0. */
  streamTimeout: number;
  /** null = plaintext (default). */
  tls: ResolvedDependencyTls | null;
  /** Retry policy for every method; null (default) = idempotent methods get the defaults. */
  retry: ResolvedRetryPolicy | null;
  retryThrottling: { maxTokens: number; tokenRatio: number };
  circuitBreaker: { enabled: boolean; window: number; k: number; minRequests: number };
  outlierDetection: ResolvedOutlierDetection;
}

/** `dependencies.<service>.retry` (gRFC A6 names; durations in ms). */
export interface ResolvedRetryPolicy {
  maxAttempts: number;
  initialBackoff: number;
  maxBackoff: number;
  backoffMultiplier: number;
  /** Upper-snake names, e.g. `UNAVAILABLE`. */
  retryableStatusCodes: RetryableCodeName[];
}

/** A status code by its gRPC service-config name; OK is not one. */
export type RetryableCodeName =
  | "CANCELLED"
  | "UNKNOWN"
  | "INVALID_ARGUMENT"
  | "DEADLINE_EXCEEDED"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "RESOURCE_EXHAUSTED"
  | "FAILED_PRECONDITION"
  | "ABORTED"
  | "OUT_OF_RANGE"
  | "UNIMPLEMENTED"
  | "INTERNAL"
  | "UNAVAILABLE"
  | "DATA_LOSS"
  | "UNAUTHENTICATED";

/** `dependencies.<service>.outlierDetection` (durations in ms). */
export interface ResolvedOutlierDetection {
  enabled: boolean;
  interval: number;
  baseEjectionTime: number;
  maxEjectionTime: number;
  maxEjectionPercent: number;
  failurePercentage: number;
  minimumHosts: number;
  requestVolume: number;
}

/** A token bucket: `rate` tokens per second, up to `burst`. */
export interface ResolvedBucket {
  rate: number;
  burst: number;
}

/** `rateLimit`. */
export interface ResolvedRateLimit {
  /** One bucket for all calls, or null (default). */
  global: ResolvedBucket | null;
  /** Keyed by full method path `/pkg.Service/Method` or service `pkg.Service`. Default `{}`. */
  perMethod: Record<string, ResolvedBucket>;
  /** One bucket per caller, or null (default). */
  perKey: (ResolvedBucket & { key: string; maxKeys: number }) | null;
  maxConcurrent: {
    /** 0 = unlimited (default). */
    global: number;
    /** Default `{}`. */
    perMethod: Record<string, number>;
  };
}

/** `overload`, durations in ms. */
export interface ResolvedOverload {
  /** Default false. */
  enabled: boolean;
  /** Queueing delay a call may see while the process is overloaded. Default 10ms. */
  targetDelay: number;
  /** How long delay must stay above targetDelay to count as overload. Default 100ms. */
  interval: number;
}

/** The `tracing.sampler` names, as `OTEL_TRACES_SAMPLER` spells them. */
export type SamplerName =
  | "parentbased_traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "traceidratio"
  | "always_on"
  | "always_off";

/** `tracing`, durations in ms. */
export interface ResolvedTracing {
  /** Default false. */
  enabled: boolean;
  exporter: {
    /** Default `http/protobuf`. */
    protocol: "http/protobuf";
    /** Collector base URL; `/v1/traces` is appended. Default `http://localhost:4318`. */
    endpoint: string;
    /** Default `{}`. */
    headers: Record<string, string>;
    /** Bound on one export request. Default 10s. */
    timeout: number;
  };
  /** Default `parentbased_traceidratio`. */
  sampler: SamplerName;
  /** 0-1. Default 1. */
  ratio: number;
  /** Extra resource attributes. Default `{}`. */
  resource: Record<string, string>;
  batch: {
    /** Default 2048. */
    maxQueueSize: number;
    /** Default 512. */
    maxExportBatchSize: number;
    /** Default 5s. */
    scheduleDelay: number;
  };
  /** Trace health and reflection calls too. Default false. */
  builtins: boolean;
}

/** `shutdown`, in ms. */
export interface ResolvedShutdown {
  /** Time between NOT_SERVING and closing the listener. Default 5s. */
  drainDelay: number;
  /** Time in-flight calls get before they are cancelled. Default 20s. */
  gracePeriod: number;
}

/** `logging`. */
export interface ResolvedLogging {
  /** Default `info`. */
  level: "debug" | "info" | "warn" | "error";
  /** Default `json`. */
  format: "json" | "pretty";
  /** One line per call. Default true. */
  accessLog: boolean;
}

/** The whole resolved config. */
export interface ResolvedConfig {
  /** Absolute path of the config file this came from. */
  file: string;
  service: { name: string; version: string };
  server: ResolvedServer;
  protos: ResolvedProtos;
  /** Absolute path of the handlers directory. Default `handlers`. */
  handlers: string;
  /** Absolute paths of middleware files (default exports from defineMiddleware). Default `[]`. */
  middleware: string[];
  /** Absolute paths of client middleware files (defineClientMiddleware). Default `[]`. */
  clientMiddleware: string[];
  admin: ResolvedAdmin;
  health: { enabled: boolean };
  reflection: { enabled: boolean };
  registry: ResolvedRegistry;
  /** By fully-qualified service name. Default `{}`. */
  dependencies: Record<string, ResolvedDependency>;
  rateLimit: ResolvedRateLimit;
  overload: ResolvedOverload;
  tracing: ResolvedTracing;
  shutdown: ResolvedShutdown;
  logging: ResolvedLogging;
}
