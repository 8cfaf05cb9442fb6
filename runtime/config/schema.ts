/**
 * The config schema: every key with its type, default and one-line doc.
 * Validation, defaults, env overrides and the reference table are all
 * derived from {@link configSchema}.
 * @module
 */

import type { ResolvedConfig } from "./types.ts";
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
  port,
  record,
  required,
  type ResolvedOf,
  string,
} from "./schema_types.ts";
import { dependencies } from "./schema_dependencies.ts";
import { tracing } from "./schema_tracing.ts";
import { web } from "./schema_web.ts";

const HOST = { pattern: /^\S+$/, expected: "a host name or IP address" };
const METHOD_KEY = {
  keyName: "method",
  keyPattern: /^(\/[A-Za-z_][\w.]*\/[A-Za-z_]\w*|[A-Za-z_][\w.]*)$/,
  keyExpected: `a method "/pkg.Service/Method" or a service "pkg.Service"`,
};

function _fillBurst(bucket: Record<string, unknown>): void {
  if (bucket.burst === undefined && typeof bucket.rate === "number") {
    bucket.burst = Math.ceil(bucket.rate);
  }
}

function _bucketFields() {
  return {
    rate: required(number({ doc: "Tokens added per second.", above: 0 })),
    burst: integer({
      doc: "Bucket size: calls allowed at once before the rate applies.",
      min: 1,
      defaultText: "ceil(rate)",
    }),
  };
}

function _bucket(doc: string) {
  return object(_bucketFields(), { doc, finish: _fillBurst });
}

const service = object({
  name: string({
    doc: "Logical service name, used in registry keys.",
    default: "svc",
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    expected: `a name of letters, digits, ".", "_" or "-"`,
  }),
  version: string({ doc: "Service version, published in the registry.", default: "0.0.0" }),
}, { doc: "Identity." });

const tls = object({
  cert: required(path({ doc: "PEM certificate chain file.", mustBe: "file" })),
  key: required(path({ doc: "PEM private key file.", mustBe: "file" })),
  ca: nullable(path({ doc: "PEM CA bundle that verifies client certificates.", mustBe: "file" })),
  clientAuth: oneOf(["none", "require"], {
    doc: "`require`: clients must present a certificate signed by `ca` (mTLS).",
    default: "none",
  }),
}, { doc: "Serve TLS; null serves plaintext." });

const keepalive = object({
  time: duration({ doc: "Ping a connection after it has been idle this long.", default: "2h" }),
  timeout: duration({
    doc: "Close the connection if a ping is not answered in time.",
    default: "20s",
  }),
  maxConnectionIdle: duration({
    doc: "Close connections with no calls for this long; 0 = never.",
    default: "30m",
  }),
  maxConnectionAge: duration({
    doc: "Gracefully close connections older than this; 0 = never.",
    default: "2h",
  }),
  maxConnectionAgeGrace: duration({
    doc: "Time in-flight calls get after maxConnectionAge.",
    default: "30s",
  }),
}, { doc: "HTTP/2 keepalive and connection ageing." });

// grpc-js never reads these (its HTTP/2 settings are node:http2's), so they
// are a section of their own rather than siblings of the keys both transports
// honour.
const http2 = object({
  maxHeaderListBytes: integer({
    doc:
      "Largest request header list (RFC 9113 SETTINGS_MAX_HEADER_LIST_SIZE); larger requests end RESOURCE_EXHAUSTED.",
    default: 16384,
    min: 1024,
    max: 1048576,
  }),
  initialWindowBytes: integer({
    doc:
      "Per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE): how much a client may send ahead of the handler reading it.",
    default: 1048576,
    min: 65535,
    max: 2147483647,
  }),
  connectionWindowBytes: integer({
    doc:
      "Receive window for a whole connection: bounds what one connection can make the server buffer.",
    default: 16777216,
    min: 65535,
    max: 2147483647,
  }),
  maxFrameBytes: integer({
    doc: "Largest frame payload accepted (SETTINGS_MAX_FRAME_SIZE advertised).",
    default: 16384,
    min: 16384,
    max: 16777215,
  }),
  resetRate: integer({
    doc:
      "Stream resets per second a connection may cause, sustained (CVE-2023-44487 rapid reset); beyond resetBurst the connection gets GOAWAY ENHANCE_YOUR_CALM.",
    default: 100,
    min: 1,
  }),
  resetBurst: integer({
    doc: "Stream resets a connection may cause at once before resetRate applies.",
    default: 1000,
    min: 1,
  }),
  controlFrameRate: integer({
    doc:
      "PING, SETTINGS, PRIORITY and empty DATA/CONTINUATION frames per second a connection may send, sustained (flood protection).",
    default: 1000,
    min: 1,
  }),
  controlFrameBurst: integer({
    doc:
      "Such frames a connection may send at once; beyond this the connection gets GOAWAY ENHANCE_YOUR_CALM.",
    default: 10000,
    min: 1,
  }),
  prefaceTimeout: duration({
    doc: "Time a new connection gets to finish TLS and send the HTTP/2 preface and SETTINGS.",
    default: "10s",
    min: 100,
  }),
  maxOutputBytes: integer({
    doc:
      "Bytes a connection may have queued for the socket before the server stops reading from it (a client that does not read cannot grow memory).",
    default: 4194304,
    min: 65536,
  }),
}, { doc: "HTTP/2 settings and flood limits; they apply to the native transport only." });

const server = object({
  host: string({ doc: "Address to listen on.", default: "0.0.0.0", ...HOST }),
  port: port({ doc: "gRPC port; 0 picks a free port (logged at start).", default: 50051 }),
  transport: oneOf(["native", "grpc-js"], {
    doc: "HTTP/2 implementation: svc's own (`native`) or @grpc/grpc-js on node:http2.",
    default: "native",
  }),
  tls: nullable(tls),
  maxReceiveMessageBytes: integer({
    doc: "Larger requests end RESOURCE_EXHAUSTED.",
    default: 4194304,
    min: 1,
  }),
  maxDecodedMessageBytes: integer({
    doc:
      "What one request may cost once decoded into objects, estimated from its wire form before decoding (a 4 MiB request of empty sub-messages would cost 1 GiB); more ends RESOURCE_EXHAUSTED naming the field.",
    default: 67108864,
    min: 1048576,
  }),
  memoryBudgetBytes: integer({
    doc:
      "What clients may make the process hold at once: requests being received, inflated and decoded (by their estimated decoded size), responses waiting for a client's flow-control window. What does not fit ends RESOURCE_EXHAUSTED. 0 derives it: half the smallest of the container's memory limit (cgroup), server.memoryLimitBytes (when set above 0) and V8's heap limit. Otherwise at least 4 × maxReceiveMessageBytes.",
    default: 0,
    min: 0,
  }),
  memoryLimitBytes: integer({
    doc:
      "The process's memory limit, in bytes of anonymous resident memory (V8's heap, buffers; not the executable's file pages, which the kernel can drop). From 65 % a full GC is forced and new calls are paced to what fits; from 80 % new calls end RESOURCE_EXHAUSTED (never health or reflection) until back under 65 %. 0 = the container's limit (cgroup) when there is one, else off; -1 = off; otherwise at least 67108864 (64 MiB). See docs/overload.md.",
    default: 0,
    min: -1,
  }),
  reclaimIdleMemory: boolean({
    doc:
      "After a busy spell, once calls all but stop (≤ 100/s, ≤ a tenth of its busiest second) for 2 s, run a full GC and give freed memory back to the OS (malloc_trim) when memory grew by 32 MiB or more: RSS falls back to what is live instead of staying at the spell's peak. Nothing per call; one pause of tens of ms when it runs, at most every 10 s. Also, once, at the first calm moment (2 s after start for a process started idle), hand back the pages of the executable that only starting used (madvise MADV_DONTNEED on its code and read-only data; ~30–40 MiB of RSS, a pause of ~10 ms; needs FFI, so not in a compiled binary). Under steady load (over 100 calls/s for 5 s in a row), that hand-back if still due, then malloc_trim alone, no GC, when memory grew 16 MiB, at most once a minute (1–3 ms). See docs/overload.md.",
    default: true,
  }),
  yieldHelperThreads: boolean({
    doc:
      "While the busiest event loop uses under half a core, V8's helper threads (the optimizing compiler, concurrent GC) run at nice 19, so a call never waits behind a compile job on a shared core; over 0.7 of a core they share it again, so a saturated loop still gets its code optimized. Looked at twice a second from /proc; nothing per call. Needs CAP_SYS_NICE to raise their priority back (root with it, or `capabilities: add: [SYS_NICE]`): without it, or without FFI (a compiled binary), nothing is changed. See docs/overload.md.",
    default: true,
  }),
  maxSendMessageBytes: integer({
    doc: "Larger responses end RESOURCE_EXHAUSTED.",
    default: 4194304,
    min: 1,
  }),
  maxConcurrentStreams: integer({ doc: "Concurrent calls per connection.", default: 1000, min: 1 }),
  maxSessionMemoryMb: integer({
    doc: "HTTP/2 session memory per connection, in MiB (grpc-js default: unlimited).",
    default: 64,
    min: 1,
  }),
  keepalive,
  http2,
  web,
  compression: oneOf(["identity", "gzip"], {
    doc: "Response compression; compressed requests are always accepted.",
    default: "identity",
  }),
  workers: integer({
    doc:
      "Event loops serving the port, each a worker thread with its own listener (SO_REUSEPORT); 0 = one per available core (docs/workers.md).",
    default: 1,
    min: 0,
    max: 256,
    expected: "an integer 0-256 (0 = one per available core)",
  }),
}, { doc: "The gRPC listener." });

const protos = object({
  files: list(path({ doc: "", mustBe: "file or directory" }), {
    doc: ".proto files or directories (searched recursively).",
    default: ["proto"],
  }),
  includePaths: list(path({ doc: "", mustBe: "directory" }), {
    doc: "Extra import roots; each file's own root is always searched.",
    default: [],
  }),
}, { doc: "Where the .proto files are." });

const admin = object({
  enabled: boolean({ doc: "Serve /metrics, /healthz, /readyz and /livez.", default: true }),
  host: string({ doc: "Admin HTTP address.", default: "0.0.0.0", ...HOST }),
  port: port({ doc: "Admin HTTP port; 0 picks a free port.", default: 9090 }),
}, { doc: "The admin HTTP server." });

const registry = object({
  type: oneOf(["none", "etcd"], { doc: "Service registry to register in.", default: "none" }),
  endpoints: list(string({ doc: "", pattern: /\S/, expected: "an etcd endpoint URL" }), {
    doc: "etcd endpoints.",
    default: ["http://127.0.0.1:2379"],
  }),
  prefix: string({ doc: "Keys are `<prefix>/<service>/<host:port>`.", default: "services" }),
  ttl: duration({ doc: "Lease TTL.", default: "10s", min: 1000 }),
  advertise: string({
    doc: "Address others dial (`host:port`); empty = derived at start.",
    default: "",
  }),
  metadata: record(string({ doc: "" }), {
    doc: "Published in the registry value's `Metadata` as a query string (`k=v&k2=v2`).",
    default: {},
    keyName: "name",
  }),
  auth: nullable(object({
    username: required(string({ doc: "etcd user." })),
    password: required(string({ doc: "etcd password." })),
  }, { doc: "etcd authentication." })),
  tls: nullable(object({
    ca: nullable(path({ doc: "CA bundle that verifies etcd.", mustBe: "file" })),
    cert: nullable(path({ doc: "Client certificate for etcd.", mustBe: "file" })),
    key: nullable(path({ doc: "Client key for etcd.", mustBe: "file" })),
  }, { doc: "etcd client TLS." })),
}, { doc: "Service registration." });

const rateLimit = object({
  global: nullable(_bucket("One token bucket shared by all calls.")),
  perMethod: record(_bucket("A bucket for one method or service."), {
    doc: "Buckets by `/pkg.Service/Method` or `pkg.Service`.",
    default: {},
    ...METHOD_KEY,
  }),
  perKey: nullable(object({
    key: required(string({
      doc: "Caller key: `peer` or `header:<name>`.",
      pattern: /^(peer|header:[A-Za-z0-9_.-]+)$/,
      expected: `"peer" or "header:<name>"`,
      normalize: (value) => value.toLowerCase(),
    })),
    ..._bucketFields(),
    maxKeys: integer({
      doc: "Buckets kept; least recently used go first.",
      default: 10000,
      min: 1,
    }),
  }, { doc: "One bucket per caller.", finish: _fillBurst })),
  maxConcurrent: object({
    global: integer({ doc: "In-flight calls in total; 0 = unlimited.", default: 0, min: 0 }),
    perMethod: record(integer({ doc: "", min: 1 }), {
      doc: "In-flight calls by method or service.",
      default: {},
      ...METHOD_KEY,
    }),
  }, { doc: "Concurrency limits." }),
}, { doc: "Rate limits; over-limit calls end RESOURCE_EXHAUSTED." });

const overload = object({
  enabled: boolean({
    doc: "Shed calls the process cannot serve in time (docs/overload.md).",
    default: false,
  }),
  targetDelay: duration({
    doc: "Queueing delay a call may see while the process is overloaded.",
    default: "10ms",
    min: 1,
  }),
  interval: duration({
    doc:
      "How long delay must stay above targetDelay to count as overload; also the most a call waits otherwise.",
    default: "100ms",
    min: 1,
  }),
}, { doc: "Adaptive overload protection; shed calls end UNAVAILABLE." });

const shutdown = object({
  drainDelay: duration({
    doc: "Time between NOT_SERVING and closing the listener.",
    default: "5s",
  }),
  gracePeriod: duration({
    doc: "Time in-flight calls get before they are cancelled.",
    default: "20s",
  }),
}, { doc: "Graceful shutdown." });

const logging = object({
  level: oneOf(["debug", "info", "warn", "error"], {
    doc: "Lowest level logged.",
    default: "info",
  }),
  format: oneOf(["json", "pretty"], { doc: "Log line format.", default: "json" }),
  accessLog: boolean({ doc: "Log one line per call.", default: true }),
}, { doc: "Logging." });

/** The whole config file. */
export const configSchema = object({
  service,
  server,
  protos,
  handlers: path({ doc: "Directory of handler files.", default: "handlers", mustBe: "directory" }),
  middleware: list(path({ doc: "", mustBe: "file" }), {
    doc: "Middleware files, run in order after `<handlers>/_middleware.ts`.",
    default: [],
  }),
  clientMiddleware: list(path({ doc: "", mustBe: "file" }), {
    doc:
      "Client middleware files (outgoing calls), run in order after `<handlers>/_client_middleware.ts`.",
    default: [],
  }),
  admin,
  health: object({
    enabled: boolean({ doc: "Serve grpc.health.v1.Health.", default: true }),
  }, { doc: "Health service." }),
  reflection: object({
    enabled: boolean({ doc: "Serve gRPC server reflection.", default: true }),
  }, { doc: "Reflection service." }),
  registry,
  dependencies,
  rateLimit,
  overload,
  tracing,
  shutdown,
  logging,
}, { doc: "The config file." });

type _Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Fails to compile when the schema and `ResolvedConfig` drift apart.
const _SCHEMA_MATCHES_TYPES: _Same<
  ResolvedOf<typeof configSchema>,
  Omit<ResolvedConfig, "file">
> = true;
