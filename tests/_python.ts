/**
 * Runs the Python grpcio helper scripts in tests/python with /usr/bin/python3
 * (Debian's python3-grpcio), bounded by a timeout.
 * @module
 */
import { ROOT } from "./_harness.ts";

/** Debian's interpreter; another python3 earlier on PATH may lack grpc. */
export const PYTHON = "/usr/bin/python3";

/** Why Python tests cannot run here, or null when they can. */
export async function pythonGrpcMissing(): Promise<string | null> {
  try {
    const { code } = await new Deno.Command(PYTHON, {
      args: ["-c", "import grpc"],
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0 ? null : "python3-grpcio is not installed";
  } catch {
    return `${PYTHON} not found`;
  }
}

/** One JSON object per stdout line. */
export type JsonLines = Record<string, unknown>[];

/**
 * Runs `tests/python/<script>` with `args`; resolves with its parsed JSON
 * lines. Rejects on a non-zero exit or after `timeoutMs`.
 */
export async function runPython(
  script: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<JsonLines> {
  const child = new Deno.Command(PYTHON, {
    args: [`${ROOT}/tests/python/${script}`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const { code, stdout, stderr } = await child.output();
    const text = new TextDecoder().decode(stdout);
    if (code !== 0) {
      throw new Error(`${script} exited ${code}: ${new TextDecoder().decode(stderr)}\n${text}`);
    }
    return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  } finally {
    clearTimeout(timer);
  }
}
