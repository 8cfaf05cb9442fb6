/**
 * Test helpers: bare grpc-js servers implementing the discovery example's
 * `demo.Backend` (examples/discovery/proto/backend.proto), on port 0, and
 * its method descriptors for clients. Not a test file.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { Logger } from "../core/logger.ts";
import { createLogger } from "../log/mod.ts";
import { loadProtos } from "../protos/mod.ts";
import type { MethodDescriptor } from "../protos/types.ts";

/** The example's backend proto, shared so the example and the tests agree. */
export const BACKEND_PROTO: string = decodeURIComponent(
  new URL("../../examples/discovery/proto/backend.proto", import.meta.url).pathname,
);

/** `demo.Backend`'s methods, with the runtime's codecs. */
export async function backendMethods(): Promise<readonly MethodDescriptor[]> {
  const protos = await loadProtos({ files: [BACKEND_PROTO], includePaths: [] });
  return protos.services.get("demo.Backend")!.methods;
}

/** A running test backend. */
export interface TestBackend extends AsyncDisposable {
  readonly name: string;
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Calls started on it, by method name. */
  readonly calls: Record<string, number>;
  /** Deadlines it saw (ms left when the call arrived; -1 for none), in order. */
  readonly deadlines: number[];
  /** Calls it saw cancelled by the client. */
  readonly cancelled: number;
  /** Total calls of every method. */
  total(): number;
  /** Drops every connection at once, like a killed process (no deregistration). */
  kill(): void;
  /** Graceful stop, bounded to 2 s; then forced. */
  stop(): Promise<void>;
}

/**
 * Starts a grpc-js server for `demo.Backend` on 127.0.0.1 port 0 (or `port`).
 * Replies carry `instance: name`; `Echo` with `sleepMs` waits first and
 * counts a client cancel; `Echo` with text `status:<code>` fails with that code.
 */
export async function startTestBackend(
  name: string,
  port = 0,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<TestBackend> {
  const definition = _definition();
  const calls: Record<string, number> = {};
  const deadlines: number[] = [];
  let cancelled = 0;
  const seen = (method: string, call: { getDeadline(): grpc.Deadline }) => {
    calls[method] = (calls[method] ?? 0) + 1;
    const deadline = call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
    const left = Number.isFinite(at) ? Math.max(0, at - Date.now()) : -1;
    deadlines.push(left);
    return left;
  };
  type Req = { text: string; sleepMs: number; count: number };
  const reply = (text: string, left: number) => ({ text, instance: name, deadlineMs: left });

  const server = new grpc.Server();
  server.addService(definition, {
    echo(call: grpc.ServerUnaryCall<Req, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const left = seen("echo", call);
      const failWith = /^status:(\d+)$/.exec(call.request.text);
      if (failWith) return callback({ code: Number(failWith[1]), details: `failed on ${name}` });
      if (call.request.sleepMs <= 0) return callback(null, reply(call.request.text, left));
      const timer = setTimeout(
        () => callback(null, reply(call.request.text, left)),
        call.request.sleepMs,
      );
      call.on("cancelled", () => {
        cancelled++;
        clearTimeout(timer);
      });
    },
    count(call: grpc.ServerWritableStream<Req, unknown>) {
      const left = seen("count", call);
      for (let i = 1; i <= call.request.count; i++) {
        call.write(reply(`${call.request.text} ${i}`, left));
      }
      call.end();
    },
    join(call: grpc.ServerReadableStream<Req, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const left = seen("join", call);
      const texts: string[] = [];
      call.on("data", (r: Req) => texts.push(r.text));
      call.on("end", () => callback(null, reply(texts.join(" "), left)));
    },
    chat(call: grpc.ServerDuplexStream<Req, unknown>) {
      const left = seen("chat", call);
      call.on("data", (r: Req) => call.write(reply(r.text, left)));
      call.on("end", () => call.end());
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `127.0.0.1:${port}`,
      credentials,
      (error, p) => error ? reject(error) : resolve(p),
    )
  );
  let stopped = false;
  const backend: TestBackend = {
    name,
    port: bound,
    address: `127.0.0.1:${bound}`,
    calls,
    deadlines,
    get cancelled() {
      return cancelled;
    },
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
    kill() {
      stopped = true;
      server.forceShutdown();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
        new Promise<void>((resolve) => timer = setTimeout(resolve, 2_000)),
      ]);
      clearTimeout(timer);
      server.forceShutdown();
    },
    [Symbol.asyncDispose]() {
      return backend.stop();
    },
  };
  return backend;
}

/** A logger that keeps lines (parsed) instead of writing them. */
export function memoryLogger(level: "debug" | "info" | "warn" = "debug"): {
  log: Logger;
  lines: Record<string, unknown>[];
} {
  const lines: Record<string, unknown>[] = [];
  return { log: createLogger({ level, write: (l) => lines.push(JSON.parse(l)) }), lines };
}

let _cachedDefinition: grpc.ServiceDefinition | null = null;
function _definition(): grpc.ServiceDefinition {
  if (_cachedDefinition) return _cachedDefinition;
  const pkg = protoLoader.loadSync(BACKEND_PROTO, { keepCase: false, defaults: true });
  const loaded = grpc.loadPackageDefinition(pkg) as unknown as {
    demo: { Backend: grpc.ServiceClientConstructor };
  };
  return _cachedDefinition = loaded.demo.Backend.service;
}

/** A test backend in a child process, for a real SIGKILL (no RST_STREAM, no GOAWAY). */
export interface BackendProcess extends AsyncDisposable {
  readonly port: number;
  readonly address: string;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

/** Runs {@link startTestBackend} in a child Deno process (this file as main). */
export async function spawnTestBackend(name: string): Promise<BackendProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, name],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  clearTimeout(timer);
  await reader.cancel();
  const port = Number(/"port":(\d+)/.exec(text)?.[1]);
  let killed: Promise<void> | null = null;
  const kill = () =>
    killed ??= (async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status;
    })();
  if (!port) {
    await kill();
    throw new Error(`test backend ${name} did not start: ${text}`);
  }
  return { port, address: `127.0.0.1:${port}`, kill, [Symbol.asyncDispose]: kill };
}

if (import.meta.main) {
  const backend = await startTestBackend(Deno.args[0] ?? "child");
  console.log(JSON.stringify({ port: backend.port }));
}
