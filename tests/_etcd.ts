/**
 * A throwaway etcd for tests: free ports, a temporary data directory, and
 * helpers to kill, freeze (SIGSTOP), thaw (SIGCONT) and restart it on the
 * same ports and data. Not a test file.
 *
 * etcd's output goes to `<dataDir>/../etcd.log` (see {@link EtcdServer.log}),
 * so a failing test can show what etcd saw.
 *
 * @example
 * ```ts
 * import { etcdMissing, startEtcd } from "./_etcd.ts";
 * const missing = await etcdMissing();
 * Deno.test({ name: "registers", ignore: missing !== null, async fn() {
 *   await using etcd = await startEtcd();
 *   const { stdout } = await etcd.ctl(["get", "--prefix", "services/"]);
 * } });
 * ```
 * @module
 */
import { freePort } from "./_harness.ts";

/** Why etcd tests cannot run here, or null when they can. Logs the reason once. */
export async function etcdMissing(): Promise<string | null> {
  const probes: [string, string][] = [["etcd", "--version"], ["etcdctl", "version"]];
  for (const [tool, arg] of probes) {
    try {
      const { code } = await new Deno.Command(tool, {
        args: [arg],
        env: { ETCDCTL_API: "3" },
        stdout: "null",
        stderr: "null",
      }).output();
      if (code !== 0) return _skip(`${tool} ${arg} failed`);
    } catch {
      return _skip(`${tool} is not installed (apt-get install etcd-server etcd-client)`);
    }
  }
  return null;
}

/** What `etcdctl` printed. */
export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A test etcd. Every method is bounded; `stop()` is safe to call twice. */
export interface EtcdServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, for `registry.endpoints`. */
  readonly endpoint: string;
  /** PID of the running etcd, or null while it is not running. */
  readonly pid: number | null;
  readonly dataDir: string;
  /** Starts etcd (again) on the same ports and data dir; resolves when it answers /health. */
  start(): Promise<void>;
  /** SIGKILL, and wait for the exit. The data dir stays, for `start()`. */
  kill(): Promise<void>;
  /** SIGSTOP: etcd keeps its sockets but answers nothing. */
  freeze(): void;
  /** SIGCONT after {@link freeze}. */
  thaw(): void;
  /** Runs `etcdctl` (API v3) against this etcd; never rejects on a non-zero exit. */
  ctl(args: string[], timeoutMs?: number): Promise<CtlResult>;
  /** etcd's output so far. */
  log(): Promise<string>;
  /** Kills etcd and removes the data dir. */
  stop(): Promise<void>;
}

/** Options for {@link createEtcd}. */
export interface EtcdOptions {
  /** Serve clients over TLS and require a client certificate signed by `ca` (PEM paths). */
  tls?: { cert: string; key: string; ca: string; clientCert: string; clientKey: string };
}

/**
 * An etcd on free ports with a new data dir, not started yet: for tests of
 * "etcd down at start-up". Call `start()` when etcd should appear.
 */
export async function createEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  const { tls } = options;
  const clientPort = freePort();
  const peerPort = freePort();
  const root = await Deno.makeTempDir({ prefix: "svc-etcd-" });
  const dataDir = `${root}/data`;
  const logFile = `${root}/etcd.log`;
  const endpoint = `${tls ? "https" : "http"}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  // etcdctl's TLS flags, for health checks and ctl().
  const ctlTls = tls
    ? [`--cacert=${tls.ca}`, `--cert=${tls.clientCert}`, `--key=${tls.clientKey}`]
    : [];
  let child: Deno.ChildProcess | null = null;
  let frozen = false;

  const args = [
    "--name=test",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    "--log-level=warn",
    "--logger=zap",
  ];
  if (tls) {
    args.push(
      `--cert-file=${tls.cert}`,
      `--key-file=${tls.key}`,
      `--trusted-ca-file=${tls.ca}`,
      "--client-cert-auth",
    );
  }
  const healthy = tls
    ? async () => (await server.ctl(["endpoint", "health"], 3_000).catch(() => null))?.code === 0
    : () => _healthy(endpoint);

  const kill = async () => {
    const running = child;
    if (!running) return;
    child = null;
    try {
      running.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    frozen = false;
    await running.status;
  };

  const server: EtcdServer = {
    endpoint,
    get pid() {
      return child?.pid ?? null;
    },
    dataDir,
    async start() {
      if (child) throw new Error(`etcd is already running (pid ${child.pid})`);
      // `exec` keeps the PID etcd's own, so signals reach etcd and not a shell.
      const quoted = args.map((a) => `'${a}'`).join(" ");
      child = new Deno.Command("sh", {
        args: ["-c", `exec etcd ${quoted} >>'${logFile}' 2>&1`],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const started = child;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        if (await healthy()) return;
        const exited = await Promise.race([started.status, _sleep(100).then(() => null)]);
        if (exited) {
          child = null;
          throw new Error(`etcd exited with code ${exited.code}: ${await server.log()}`);
        }
      }
      await kill();
      throw new Error(`etcd did not become healthy within 15 s: ${await server.log()}`);
    },
    kill,
    freeze() {
      child?.kill("SIGSTOP");
      frozen = true;
    },
    thaw() {
      child?.kill("SIGCONT");
      frozen = false;
    },
    async ctl(ctlArgs, timeoutMs = 10_000) {
      const command = new Deno.Command("etcdctl", {
        args: [
          `--endpoints=${endpoint}`,
          "--dial-timeout=2s",
          "--command-timeout=5s",
          ...ctlTls,
          ...ctlArgs,
        ],
        env: { ETCDCTL_API: "3" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(timeoutMs),
      });
      const out = await command.output();
      const decoder = new TextDecoder();
      return {
        code: out.code,
        stdout: decoder.decode(out.stdout),
        stderr: decoder.decode(out.stderr),
      };
    },
    async log() {
      try {
        return await Deno.readTextFile(logFile);
      } catch {
        return "";
      }
    },
    async stop() {
      if (frozen) server.thaw();
      await kill();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
    [Symbol.asyncDispose]() {
      return server.stop();
    },
  };
  return server;
}

/** {@link createEtcd} and `start()`: a running etcd. */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  for (let attempt = 1;; attempt++) {
    const etcd = await createEtcd(options);
    try {
      await etcd.start();
      return etcd;
    } catch (error) {
      await etcd.stop();
      // Someone can still take a free port before etcd binds it; new ports fix that.
      if (attempt === 3 || !String(error).includes("address already in use")) throw error;
    }
  }
}

/** Polls `check` every 50 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await _sleep(50);
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${what}` + (last ? `: ${last}` : ""),
  );
}

// --- private helpers ---------------------------------------------------------

let _skipLogged = false;
function _skip(reason: string): string {
  if (!_skipLogged) console.warn(`skipping etcd tests: ${reason}`);
  _skipLogged = true;
  return reason;
}

async function _healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = await res.text();
    return res.ok && body.includes('"true"');
  } catch {
    return false;
  }
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
