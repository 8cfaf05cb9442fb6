/**
 * Starts a server process from any command line (a generated entry under
 * `deno run`, a compiled binary, `chroot ... /deno run ...`) and waits for
 * its "serving" log line. tests/_harness.ts's `startSvc` always runs
 * `deno run -A main.ts`; the build and scratch tests need other commands.
 * Not a test file.
 *
 * @example
 * ```ts ignore
 * await using server = await spawnServer("./dist/svc", ["run", "config/svc.yaml"], {
 *   env: { SVC_SERVER_PORT: "0", SVC_ADMIN_PORT: "0" },
 * });
 * ```
 * @module
 */

/** Options for {@link spawnServer}. */
export interface SpawnOptions {
  /** The child's whole environment (nothing is inherited). */
  env: Record<string, string>;
  cwd?: string;
  /** How long to wait for the "serving" line. Default 60 s. */
  startTimeoutMs?: number;
  /**
   * The pid signals go to, when it is not the child's own (a wrapper such
   * as `unshare --fork` does not forward signals). Default: the child.
   */
  signalTarget?: (childPid: number) => Promise<number>;
}

/** A running server; `await using` stops it. */
export interface ServerProcess extends AsyncDisposable {
  /** gRPC port from the "serving" line. */
  readonly port: number;
  /** Admin port from the "serving" line, or null when admin is off. */
  readonly adminPort: number | null;
  /** The spawned process's pid. */
  readonly pid: number;
  /** stderr so far. */
  stderr(): string;
  /** stderr lines that parsed as JSON objects. */
  logs(): Record<string, unknown>[];
  /** Sends `signal` to the server process (see {@link SpawnOptions.signalTarget}). */
  signal(signal: Deno.Signal): Promise<void>;
  /** Settles with the exit status once the process is gone and its output read. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** SIGTERM, then SIGKILL after `timeoutMs` (default 15 s); resolves with the status. */
  stop(timeoutMs?: number): Promise<Deno.CommandStatus>;
}

/**
 * Spawns `command args` and resolves once it logs `serving`; rejects with its
 * stderr if it exits first or does not serve in time (it is killed then).
 */
export async function spawnServer(
  command: string,
  args: string[],
  options: SpawnOptions,
): Promise<ServerProcess> {
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    clearEnv: true,
    cwd: options.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const logs: Record<string, unknown>[] = [];
  let wake = () => {};
  const read = (async () => {
    let pending = "";
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += text;
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line.startsWith("{")) {
          try {
            logs.push(JSON.parse(line));
          } catch {
            // Not JSON; it stays in the text.
          }
        }
      }
      wake();
    }
  })();
  let done = false;
  const exited = Promise.all([child.status, read]).then(([status]) => {
    done = true;
    wake();
    return status;
  });
  const signal = async (name: Deno.Signal) => {
    if (done) return;
    try {
      Deno.kill(options.signalTarget ? await options.signalTarget(child.pid) : child.pid, name);
    } catch {
      // Exited meanwhile.
    }
  };
  let stopping: Promise<Deno.CommandStatus> | undefined;
  const stop = (timeoutMs = 15_000) =>
    stopping ??= (async () => {
      await signal("SIGTERM");
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    })();

  const serving = await new Promise<Record<string, unknown> | string>((resolve) => {
    const timer = setTimeout(
      () => resolve(`no "serving" line within ${options.startTimeoutMs ?? 60_000} ms`),
      options.startTimeoutMs ?? 60_000,
    );
    wake = () => {
      const line = logs.find((l) => l.msg === "serving" && typeof l.port === "number");
      if (line || done) {
        clearTimeout(timer);
        wake = () => {};
        resolve(line ?? "the process exited before serving");
      }
    };
    wake();
  });
  if (typeof serving === "string") {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    const status = await exited;
    throw new Error(
      `${command} ${args.join(" ")}: ${serving} (exit ${status.code}); stderr:\n${stderr}`,
    );
  }
  return {
    port: serving.port as number,
    adminPort: typeof serving.adminPort === "number" ? serving.adminPort : null,
    pid: child.pid,
    stderr: () => stderr,
    logs: () => [...logs],
    signal,
    exited,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** Runs a command to its end with a bounded wait; SIGKILL after `timeoutMs` (default 60 s). */
export async function runToEnd(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, options.timeoutMs ?? 60_000);
  try {
    const { code, stdout, stderr } = await child.output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code, stdout: decode(stdout), stderr: decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}
