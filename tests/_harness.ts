/**
 * Test helpers for end-to-end tests: start `svc` as a real process, run
 * one-shot CLI commands, and build real grpc-js clients. Not a test file.
 *
 * Every wait here is bounded, and every process, stream and timer is closed
 * before a promise settles, so Deno's resource sanitizers stay on.
 *
 * @example
 * ```ts
 * import { grpcClient, startSvc, unary } from "./_harness.ts";
 * Deno.test("SayHello greets", async () => {
 *   await using svc = await startSvc({ config: "config/svc.yaml" });
 *   const client = grpcClient(["proto/helloworld.proto"]).makeClient("helloworld.Greeter", svc.port);
 *   try {
 *     const reply = await unary(client, "sayHello", { name: "Ada" });
 *   } finally {
 *     client.close();
 *   }
 * });
 * ```
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { svcDenoArgs } from "./_manifest_mode.ts";

export { freePort } from "./_free_port.ts";

/**
 * `SVC_TEST_TRANSPORT=grpc-js` runs every svc the suite starts on the
 * grpc-js transport instead of the default native one (`deno task
 * test:grpc-js`); a test that sets SVC_SERVER_TRANSPORT itself still wins.
 */
export const TEST_TRANSPORT: string = Deno.env.get("SVC_TEST_TRANSPORT") ?? "native";
const TRANSPORT_ENV: Record<string, string> = Deno.env.get("SVC_TEST_TRANSPORT")
  ? { SVC_SERVER_TRANSPORT: TEST_TRANSPORT }
  : {};

/** Absolute path of the svc CLI entry point. */
export const MAIN_TS: string = fromFileUrl(new URL("../main.ts", import.meta.url));
/** Absolute path of the repository root. */
export const ROOT: string = fromFileUrl(new URL("../", import.meta.url)).replace(/\/$/, "");

/** Options for {@link startSvc}. */
export interface StartSvcOptions {
  /** Config file, absolute or relative to `cwd`. */
  config: string;
  /** Extra environment; merged over the defaults `SVC_SERVER_PORT=0`, `SVC_ADMIN_PORT=0`, `SVC_SHUTDOWN_DRAIN_DELAY=0s`. */
  env?: Record<string, string>;
  /** Working directory of the process. Default: the repository root. */
  cwd?: string;
  /** CLI arguments replacing `["run", config]`, e.g. to start another subcommand. */
  args?: string[];
  /** How long to wait for the "serving" line. Default 60 s (first runs fetch npm packages). */
  startTimeoutMs?: number;
}

/** How a process ended. */
export interface ExitStatus {
  code: number;
  signal: string | null;
}

/** A running svc process, started by {@link startSvc}. */
export interface SvcProcess extends AsyncDisposable {
  /** The gRPC port from the "serving" line. */
  readonly port: number;
  /** The admin HTTP port from the "serving" line, or null when admin is off. */
  readonly adminPort: number | null;
  readonly pid: number;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Every stderr line that parsed as a JSON object, in order. */
  logs(): Record<string, unknown>[];
  /**
   * Resolves with the first log line (from the start) that `match` accepts,
   * waiting up to `timeoutMs` (default 10 s) for it; rejects after that.
   */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends a signal; does nothing if the process has exited. */
  kill(signal?: Deno.Signal): void;
  /** Settles when the process has exited and its output is fully read. */
  readonly exited: Promise<ExitStatus>;
  /** SIGTERM, wait up to `timeoutMs` (default 15 s), then SIGKILL. Safe to call twice. */
  stop(timeoutMs?: number): Promise<ExitStatus>;
}

/**
 * Starts `deno run -A main.ts run CONFIG` and resolves once it serves. Rejects,
 * with the process's stderr in the message, if it exits first or does not
 * serve within `startTimeoutMs`.
 */
export async function startSvc(options: StartSvcOptions): Promise<SvcProcess> {
  const env: Record<string, string> = {
    SVC_SERVER_PORT: "0",
    SVC_ADMIN_PORT: "0",
    // Tests stop servers often; the 5 s production drain delay only slows them.
    SVC_SHUTDOWN_DRAIN_DELAY: "0s",
    NO_COLOR: "1",
    ...TRANSPORT_ENV,
    ...options.env,
  };
  const cliArgs = options.args ?? ["run", options.config];
  const child = new Deno.Command(Deno.execPath(), {
    args: await svcDenoArgs(cliArgs, { cwd: options.cwd ?? ROOT, env }),
    cwd: options.cwd ?? ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const out = new OutputCollector();
  const stdoutDone = readText(child.stdout, (text) => out.stdout += text);
  const stderrDone = readLines(child.stderr, (line) => out.addStderrLine(line));
  const exited: Promise<ExitStatus> = Promise.all([child.status, stdoutDone, stderrDone])
    .then(([status]) => {
      out.exitStatus = { code: status.code, signal: status.signal };
      out.exited = true;
      out.notify();
      return { code: status.code, signal: status.signal };
    });

  const kill = (signal: Deno.Signal = "SIGTERM") => {
    if (out.exited) return;
    try {
      child.kill(signal);
    } catch {
      // Exited between the check and the kill.
    }
  };

  let stopping: Promise<ExitStatus> | null = null;
  const stop = (timeoutMs = 15_000): Promise<ExitStatus> => {
    stopping ??= (async () => {
      kill("SIGTERM");
      const timer = new Timer();
      const result = await Promise.race([exited, timer.after(timeoutMs)]);
      timer.clear();
      if (result !== undefined) return result;
      kill("SIGKILL");
      return await exited;
    })();
    return stopping;
  };

  const describe = () =>
    `svc ${cliArgs.join(" ")} (pid ${child.pid})` +
    (out.exitStatus
      ? ` exited with code ${out.exitStatus.code}` +
        (out.exitStatus.signal ? ` (${out.exitStatus.signal})` : "")
      : "") +
    `; stderr:\n${out.stderr}`;

  try {
    const serving = await out.waitFor(
      (l) => l.msg === "serving" && typeof l.port === "number",
      options.startTimeoutMs ?? 60_000,
      'the "serving" log line',
    );
    // The "serving" line names the admin port (null when admin is off).
    const adminPort = typeof serving.adminPort === "number" ? serving.adminPort : null;
    const port = serving.port as number;
    return {
      port,
      adminPort,
      pid: child.pid,
      stderr: () => out.stderr,
      stdout: () => out.stdout,
      logs: () => [...out.logs],
      waitForLog: (match, timeoutMs = 10_000) =>
        out.waitFor(match, timeoutMs, "a matching log line"),
      kill,
      exited,
      stop,
      [Symbol.asyncDispose]: async () => {
        await stop();
      },
    };
  } catch (err) {
    kill("SIGKILL");
    await exited;
    throw new Error(`${(err as Error).message}: ${describe()}`);
  }
}

/** Options for {@link runSvc}. */
export interface RunSvcOptions {
  env?: Record<string, string>;
  /** Default: the repository root. */
  cwd?: string;
  /** Killed with SIGKILL after this long, and the promise rejects. Default 60 s. */
  timeoutMs?: number;
}

/** What a one-shot CLI command did. */
export interface RunSvcResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/**
 * Runs a one-shot svc command (`check`, `types`, `version`, ...) to the end.
 *
 * @example
 * ```ts
 * const { code, stderr } = await runSvc(["check", "config/svc.yaml"]);
 * ```
 */
export async function runSvc(args: string[], options: RunSvcOptions = {}): Promise<RunSvcResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: await svcDenoArgs(args, { cwd: options.cwd ?? ROOT, env: options.env ?? {} }),
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  const done = Promise.all([
    child.status,
    readText(child.stdout, (t) => stdout += t),
    readText(child.stderr, (t) => stderr += t),
  ]);
  const timer = new Timer();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const result = await Promise.race([done, timer.after(timeoutMs)]);
  timer.clear();
  if (result === undefined) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await done;
    throw new Error(
      `svc ${
        args.join(" ")
      } did not finish within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`,
    );
  }
  const [status] = result;
  return { code: status.code, signal: status.signal, stdout, stderr };
}

/** A grpc-js client with its generated methods (`client.sayHello(...)`). */
// deno-lint-ignore no-explicit-any
export type GrpcTestClient = grpc.Client & Record<string, any>;

/** Loaded protos, ready to make clients. See {@link grpcClient}. */
export interface GrpcClientFactory {
  /** The grpc-js package definition (after `loadPackageDefinition`). */
  readonly grpcObject: grpc.GrpcObject;
  /** The raw proto-loader package definition. */
  readonly packageDefinition: protoLoader.PackageDefinition;
  /**
   * A client for `serviceName` (fully qualified) at 127.0.0.1:`port`. The
   * test must `close()` it.
   */
  makeClient(
    serviceName: string,
    port: number,
    creds?: grpc.ChannelCredentials,
    options?: grpc.ChannelOptions,
  ): GrpcTestClient;
}

/**
 * Loads .proto files with @grpc/proto-loader for real grpc-js clients.
 * Messages use the runtime's conventions: camelCase fields, 64-bit integers
 * and enums as strings, defaults filled in. Relative paths resolve against
 * the repository root.
 */
export function grpcClient(protoFiles: string[], includeDirs: string[] = []): GrpcClientFactory {
  const abs = (p: string) => p.startsWith("/") ? p : `${ROOT}/${p}`;
  const packageDefinition = protoLoader.loadSync(protoFiles.map(abs), {
    includeDirs: includeDirs.map(abs),
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const grpcObject = grpc.loadPackageDefinition(packageDefinition);
  return {
    grpcObject,
    packageDefinition,
    makeClient(serviceName, port, creds, options) {
      // deno-lint-ignore no-explicit-any
      let node: any = grpcObject;
      for (const part of serviceName.split(".")) node = node?.[part];
      if (typeof node !== "function") {
        throw new Error(`Cannot make a client for "${serviceName}": no such service in the protos`);
      }
      const Client = node as grpc.ServiceClientConstructor;
      return new Client(
        `127.0.0.1:${port}`,
        creds ?? grpc.credentials.createInsecure(),
        options,
      ) as GrpcTestClient;
    },
  };
}

/** Per-call options for {@link unary}. */
export interface CallOptions {
  metadata?: grpc.Metadata;
  /** Relative deadline in ms. Default 10 s, so a broken server fails the test. */
  timeoutMs?: number;
}

/**
 * Calls a unary method and resolves with the response; rejects with the
 * grpc-js ServiceError (`code`, `details`, `metadata`).
 */
export function unary<T = Record<string, unknown>>(
  client: GrpcTestClient,
  method: string,
  request: unknown,
  options: CallOptions = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](
      request,
      options.metadata ?? new grpc.Metadata(),
      { deadline: Date.now() + (options.timeoutMs ?? 10_000) },
      (err: grpc.ServiceError | null, response: T) => err ? reject(err) : resolve(response),
    );
  });
}

/** Reads a server or bidi stream to its end; rejects with its error status. */
export async function readAll<T = Record<string, unknown>>(
  stream: AsyncIterable<unknown>,
): Promise<T[]> {
  const out: T[] = [];
  for await (const message of stream) out.push(message as T);
  return out;
}

// --- private helpers ---------------------------------------------------------

function fromFileUrl(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** A cancellable sleep that resolves `undefined`. */
class Timer {
  #id: ReturnType<typeof setTimeout> | undefined;
  after(ms: number): Promise<undefined> {
    return new Promise((resolve) => {
      this.#id = setTimeout(() => resolve(undefined), ms);
    });
  }
  clear(): void {
    clearTimeout(this.#id);
  }
}

/** Collects a child's output and lets callers wait for log lines. */
class OutputCollector {
  stdout = "";
  stderr = "";
  logs: Record<string, unknown>[] = [];
  exited = false;
  exitStatus: ExitStatus | null = null;
  #waiters = new Set<() => void>();

  addStderrLine(line: string): void {
    this.stderr += line + "\n";
    const trimmed = line.trim();
    if (trimmed.startsWith("{")) {
      try {
        const parsed = JSON.parse(trimmed);
        if (parsed && typeof parsed === "object") this.logs.push(parsed);
      } catch {
        // Not JSON after all; it stays in the text.
      }
    }
    this.notify();
  }

  notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** The first log line matching, waiting up to `timeoutMs`; rejects on timeout or exit. */
  waitFor(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.logs.find(match);
        if (found) return finish(() => resolve(found));
        if (this.exited) {
          return finish(() => reject(new Error(`Process exited before ${what} appeared`)));
        }
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`No ${what} within ${timeoutMs} ms`))),
        timeoutMs,
      );
      this.#waiters.add(check);
      check();
    });
  }
}

async function readText(stream: ReadableStream<Uint8Array>, onText: (text: string) => void) {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) onText(text);
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  let pending = "";
  await readText(stream, (text) => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  if (pending) onLine(pending);
}
