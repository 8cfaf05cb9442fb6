/** Whether nghttp2's h2load is on PATH: the load tests that need it are ignored without it. */
export const h2loadMissing: boolean = !await new Deno.Command("h2load", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output().then((r) => r.success, () => false);

/**
 * Runs h2load against `url` with `args` (-n or -D, -c, -m), posting `body`
 * (a gRPC frame) as every call; resolves with its exit code and report.
 */
export async function h2loadGrpc(
  url: string,
  body: Uint8Array,
  args: readonly string[],
  signal: AbortSignal,
): Promise<{ code: number; out: string }> {
  const file = await Deno.makeTempFile({ suffix: ".bin" });
  try {
    await Deno.writeFile(file, body);
    const { code, stdout } = await new Deno.Command("h2load", {
      args: [
        ...args,
        "-d",
        file,
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        url,
      ],
      stdout: "piped",
      stderr: "null",
      signal,
    }).output();
    return { code, out: new TextDecoder().decode(stdout) };
  } finally {
    await Deno.remove(file);
  }
}
