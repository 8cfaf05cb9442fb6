/**
 * Helpers for the gRPC-Web and Connect tests: service descriptors without
 * code generation, real @connectrpc/connect-node clients for each web
 * protocol over HTTP/1.1, the same call made by a grpc-js client as the
 * reference, outcomes reduced to plain data so the two compare with one
 * `deepEqual`, and a bounded `curl`. Not a test file.
 *
 * @example
 * ```ts
 * import { connectCall, loadRegistry, webClients } from "./_connect.ts";
 * const registry = await loadRegistry("proto/helloworld.proto", "proto");
 * const greeter = registry.getService("helloworld.Greeter")!;
 * await using web = webClients(port);
 * const client = web.client("connect-json", greeter);
 * const outcome = await connectCall(client, greeter, "sayHello", { name: "Ada" });
 * ```
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { type Client, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import {
  createFileRegistry,
  type DescMessage,
  type DescService,
  type FileRegistry,
  fromBinary,
  toJson,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Agent } from "node:http";
import type { GrpcTestClient } from "./_harness.ts";
import { ROOT } from "./_harness.ts";

/**
 * Environment that switches the web protocols on. They live in the native
 * transport, so it is forced even under `SVC_TEST_TRANSPORT=grpc-js`.
 */
export const WEB_ENV: Record<string, string> = {
  SVC_SERVER_WEB_ENABLED: "true",
  SVC_SERVER_TRANSPORT: "native",
};

/** The three web protocols connect-node speaks over HTTP/1.1. */
export const WEB_PROTOCOLS = ["grpc-web", "connect-binary", "connect-json"] as const;
/** One of {@link WEB_PROTOCOLS}. */
export type WebProtocol = typeof WEB_PROTOCOLS[number];

/** What a call did, as plain data: equal outcomes mean the client saw the same thing. */
export interface Outcome {
  messages: unknown[];
  error: { code: number; message: string } | null;
  /** Response headers whose names start with `x-`. */
  headers: Record<string, string>;
  /** Trailers (for errors: the error's metadata) whose names start with `x-`. */
  trailers: Record<string, string>;
}

/** Options for one call. */
export interface CallOptions {
  /** Request metadata (text values only). */
  headers?: Record<string, string>;
  /** Relative deadline; default 15 s, so a broken server fails the test instead of hanging it. */
  timeoutMs?: number;
}

const registries = new Map<string, Promise<FileRegistry>>();

/**
 * Compiles `protoFile` (relative to the repository root) with protoc into a
 * descriptor set and returns its registry: the descriptors connect-es needs,
 * without generated code.
 */
export function loadRegistry(protoFile: string, includeDir: string): Promise<FileRegistry> {
  const key = `${includeDir}:${protoFile}`;
  let found = registries.get(key);
  if (!found) registries.set(key, found = compile(protoFile, includeDir));
  return found;
}

async function compile(protoFile: string, includeDir: string): Promise<FileRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "svc-web-desc-" });
  try {
    const out = `${dir}/set.pb`;
    const { code, stderr } = await run("protoc", [
      "--include_imports",
      `--descriptor_set_out=${out}`,
      `-I${ROOT}/${includeDir}`,
      `${ROOT}/${protoFile}`,
    ], 30_000);
    if (code !== 0) throw new Error(`Cannot compile "${protoFile}": ${stderr}`);
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, await Deno.readFile(out)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Clients on every web protocol for one server; dispose to close their sockets. */
export interface WebClients extends AsyncDisposable {
  // deno-lint-ignore no-explicit-any
  client(protocol: WebProtocol, service: DescService): Client<any>;
}

/** The HTTP versions the web protocols are tested over. */
export const HTTP_VERSIONS = ["1.1", "2"] as const;

/**
 * Web clients for the server at 127.0.0.1:`port`: over HTTP/1.1 with
 * keep-alive (so the server's persistent connections are exercised too),
 * or over one cleartext HTTP/2 connection (prior knowledge, as gRPC does).
 */
export function webClients(port: number, httpVersion: "1.1" | "2" = "1.1"): WebClients {
  const baseUrl = `http://127.0.0.1:${port}`;
  // One agent (or session), closed at the end: otherwise idle sockets outlive
  // the test and trip Deno's resource sanitizer.
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const session = httpVersion === "2" ? new Http2SessionManager(baseUrl) : null;
  const common = session === null
    ? { baseUrl, httpVersion: "1.1" as const, nodeOptions: { agent } }
    : { baseUrl, httpVersion: "2" as const, sessionManager: session };
  const transports: Record<WebProtocol, Transport> = {
    "grpc-web": createGrpcWebTransport({ ...common, useBinaryFormat: true }),
    "connect-binary": createConnectTransport({ ...common, useBinaryFormat: true }),
    "connect-json": createConnectTransport({ ...common, useBinaryFormat: false }),
  };
  return {
    client: (protocol, service) => createClient(service, transports[protocol]),
    [Symbol.asyncDispose]: () => {
      agent.destroy();
      session?.abort();
      return Promise.resolve();
    },
  };
}

/** Calls a unary or server-streaming method with a connect-es client. */
export async function connectCall(
  // deno-lint-ignore no-explicit-any
  client: Client<any>,
  service: DescService,
  method: string,
  request: Record<string, unknown>,
  options: CallOptions = {},
): Promise<Outcome> {
  const desc = service.methods.find((m) => m.localName === method);
  if (!desc) throw new Error(`Cannot call "${method}": not in ${service.typeName}`);
  const outcome: Outcome = { messages: [], error: null, headers: {}, trailers: {} };
  const callOptions = {
    headers: options.headers,
    timeoutMs: options.timeoutMs ?? 15_000,
    onHeader: (h: Headers) => outcome.headers = pick(h.entries()),
    onTrailer: (t: Headers) => outcome.trailers = pick(t.entries()),
  };
  // deno-lint-ignore no-explicit-any
  const call = (client as Record<string, any>)[method];
  try {
    if (desc.methodKind === "unary") {
      outcome.messages.push(plain(desc.output, await call(request, callOptions)));
    } else {
      for await (const m of call(request, callOptions)) {
        outcome.messages.push(plain(desc.output, m));
      }
    }
  } catch (error) {
    const e = ConnectError.from(error);
    outcome.error = { code: e.code, message: e.rawMessage };
    // On an error, compare everything the client saw as one set: where the
    // metadata travels (headers, trailers, end-stream) differs by protocol.
    outcome.trailers = { ...outcome.headers, ...outcome.trailers, ...pick(e.metadata.entries()) };
  }
  return outcome;
}

/** The same call with the grpc-js client from the harness: the reference. */
export function grpcCall(
  client: GrpcTestClient,
  method: string,
  request: Record<string, unknown>,
  options: CallOptions = {},
): Promise<Outcome> {
  const outcome: Outcome = { messages: [], error: null, headers: {}, trailers: {} };
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.headers ?? {})) metadata.set(k, v);
  const callOptions = { deadline: Date.now() + (options.timeoutMs ?? 15_000) };
  return new Promise((resolve) => {
    let statusSeen = false;
    let ended = false;
    // A unary callback runs before the status event, but a stream's last
    // messages may still be queued behind it: wait for the stream's end too.
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      setTimeout(() => resolve(outcome), 0);
    };
    let call: grpc.ClientUnaryCall | grpc.ClientReadableStream<unknown>;
    const isStream = client[method].responseStream === true;
    if (isStream) {
      const stream = client[method](request, metadata, callOptions);
      stream.on("data", (m: unknown) => outcome.messages.push(plainGrpc(m)));
      stream.on("error", () => {}); // the status event below carries it
      stream.on("end", () => {
        ended = true;
        if (statusSeen) settle();
      });
      call = stream;
    } else {
      call = client[method](request, metadata, callOptions, (_e: unknown, m: unknown) => {
        if (m !== undefined && m !== null) outcome.messages.push(plainGrpc(m));
      });
    }
    call.on("metadata", (md: grpc.Metadata) => outcome.headers = pickGrpc(md));
    call.on("status", (status: grpc.StatusObject) => {
      // A trailers-only response delivers its metadata here as "trailers".
      const trailers = pickGrpc(status.metadata);
      if (status.code !== grpc.status.OK) {
        outcome.error = { code: status.code, message: status.details };
        outcome.trailers = { ...outcome.headers, ...trailers };
        outcome.headers = {};
      } else {
        outcome.trailers = trailers;
      }
      statusSeen = true;
      if (!isStream || ended) settle();
      else setTimeout(settle, 2_000); // bounded: a stream that never ends still settles
    });
  });
}

/** Drops the headers a web answer legitimately lacks or adds, for comparison with gRPC errors. */
export function errorView(o: Outcome): Omit<Outcome, "headers"> {
  return { messages: o.messages, error: o.error, trailers: o.trailers };
}

/** A message as canonical JSON with defaults, the shape both clients agree on. */
function plain(schema: DescMessage, message: unknown): unknown {
  // deno-lint-ignore no-explicit-any
  return toJson(schema, message as any, { alwaysEmitImplicit: true });
}

/** grpc-js messages (proto-loader, defaults on) as JSON, without unset message fields. */
function plainGrpc(message: unknown): unknown {
  return JSON.parse(JSON.stringify(message, (_k, v) => v === null ? undefined : v));
}

/** The test's own metadata (`x-...`); `-bin` values decoded, so both sides read the same. */
function pick(entries: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (!key.startsWith("x-")) continue;
    out[key] = key.endsWith("-bin") ? binText(decodeBase64(value)) : value;
  }
  return out;
}

function pickGrpc(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(md.getMap())) {
    if (!key.startsWith("x-")) continue;
    out[key] = typeof value === "string" ? value : binText(value);
  }
  return out;
}

function binText(bytes: Uint8Array): string {
  return `bin:${[...bytes].join(",")}`;
}

function decodeBase64(text: string): Uint8Array {
  // Metadata base64 may be padded or not, standard or URL-safe (gRPC allows all).
  const std = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  return Uint8Array.from(atob(std + "=".repeat((4 - std.length % 4) % 4)), (c) => c.charCodeAt(0));
}

/** What curl got. `status` is 0 when no HTTP answer came (curl's `%{http_code}` 000). */
export interface CurlResult {
  exitCode: number;
  status: number;
  headers: Headers;
  body: string;
  stderr: string;
}

/** Runs the real curl over HTTP/1.1 with `args` plus `url`; bounded by `--max-time`. */
export async function curl(url: string, args: string[] = [], maxTimeS = 15): Promise<CurlResult> {
  const dir = await Deno.makeTempDir({ prefix: "svc-web-curl-" });
  try {
    const { code, stdout, stderr } = await run("curl", [
      "-sS",
      "--http1.1",
      "--max-time",
      String(maxTimeS),
      "-D",
      `${dir}/head`,
      "-o",
      `${dir}/body`,
      "-w",
      "%{http_code}",
      ...args,
      url,
    ], (maxTimeS + 10) * 1000);
    const headers = new Headers();
    const head = await Deno.readTextFile(`${dir}/head`).catch(() => "");
    // Only the final response's header block counts (a 100 Continue may precede it).
    const lastBlock = head.trim().split(/\r?\n\r?\n/).pop() ?? "";
    for (const line of lastBlock.split(/\r?\n/).slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const body = await Deno.readTextFile(`${dir}/body`).catch(() => "");
    return { exitCode: code, status: Number(stdout.trim()) || 0, headers, body, stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs a program to the end, killing it after `timeoutMs`. */
async function run(
  program: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(program, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, timeoutMs);
  try {
    const { code, stdout, stderr } = await child.output();
    const text = new TextDecoder();
    return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}
