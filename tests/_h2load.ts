/** Whether nghttp2's h2load is on PATH: the load tests that need it are ignored without it. */
export const h2loadMissing: boolean = !await new Deno.Command("h2load", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output().then((r) => r.success, () => false);
