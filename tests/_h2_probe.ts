/**
 * Runs the raw-frame HTTP/2 probes in tests/python (h2_probe.py,
 * h2_abuse.py) against a server, bounded, and returns what they saw.
 * Not a test file.
 * @module
 */
import { ROOT } from "./_harness.ts";
import { PYTHON } from "./_python.ts";

/** Options for {@link runProbe}. */
export interface ProbeOptions {
  /** The probe is killed after this long. */
  timeoutMs: number;
  /** Runs when the probe prints {"ready": true}; the result waits for it. */
  onReady?: () => Promise<void>;
}

/**
 * Runs `tests/python/<script> CASE PORT ARGS` and resolves with the last
 * JSON line it printed. Rejects if it fails, prints nothing, or `onReady`
 * rejects.
 */
export async function runProbe<T>(
  script: string,
  port: number,
  args: string[],
  options: ProbeOptions,
): Promise<T> {
  const [name, ...rest] = args;
  const child = new Deno.Command(PYTHON, {
    args: ["-B", `${ROOT}/tests/python/${script}`, name, String(port), ...rest],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
  const stderr = new Response(child.stderr).text();
  const lines: Record<string, unknown>[] = [];
  let acting: Promise<unknown> = Promise.resolve(null);
  let readError: unknown = null;
  try {
    let pending = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += text;
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const line = JSON.parse(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        lines.push(line);
        if (line.ready && options.onReady) acting = options.onReady().then(() => null, (e) => e);
      }
    }
  } catch (error) {
    readError = error;
  }
  const status = await child.status;
  clearTimeout(timer);
  const err = await stderr;
  const failed = await acting;
  if (readError || failed) throw readError ?? failed;
  if (status.code !== 0 || lines.length === 0) {
    throw new Error(`${script} ${args.join(" ")} exited ${status.code}: ${err}`);
  }
  return lines.at(-1) as T;
}
