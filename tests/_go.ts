/**
 * Go programs the tests run as peers we did not write: built from
 * tests/go/<name>/main.go in GOPATH mode against Debian's Go sources
 * (golang-google-grpc-dev, golang-google-protobuf-dev,
 * golang-etcd-server-dev), with no module proxy. Not a test file.
 * @module
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./_harness.ts";

/** Where Debian installs Go sources. */
export const GOPATH_SYSTEM = "/usr/share/gocode";
const HINT = "apt-get install golang-go golang-google-grpc-dev golang-etcd-server-dev";

/**
 * Why the Go peers cannot be built here, or null when they can: `go` must
 * run and each of `packages` (import paths) must be in Debian's GOPATH.
 */
export async function goMissing(packages: readonly string[]): Promise<string | null> {
  try {
    const { code } = await new Deno.Command("go", { args: ["version"], stdout: "null" }).output();
    if (code !== 0) return `go version failed (${HINT})`;
  } catch {
    return `go is not installed (${HINT})`;
  }
  for (const pkg of packages) {
    if (!existsSync(join(GOPATH_SYSTEM, "src", pkg))) {
      return `Go package ${pkg} is missing (${HINT})`;
    }
  }
  return null;
}

/**
 * Builds tests/go/<name>/main.go into dist/go/bin/<name> and returns the
 * binary. The build cache in dist/go/cache makes later builds quick.
 */
export async function buildGo(name: string): Promise<string> {
  const gopath = join(ROOT, "dist", "go");
  // A package directory per program: GOPATH mode builds a directory.
  const pkg = join(gopath, "src", `svc_${name}`);
  await Deno.mkdir(pkg, { recursive: true });
  await Deno.copyFile(join(ROOT, "tests", "go", name, "main.go"), join(pkg, "main.go"));
  const binary = join(gopath, "bin", name);
  const { code, stderr } = await new Deno.Command("go", {
    args: ["build", "-o", binary, "."],
    cwd: pkg,
    env: {
      GO111MODULE: "off",
      GOPATH: `${gopath}:${GOPATH_SYSTEM}`,
      GOPROXY: "off",
      GOFLAGS: "",
      GOCACHE: join(gopath, "cache"),
    },
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(300_000),
  }).output();
  if (code !== 0) throw new Error(`go build ${name} failed:\n${new TextDecoder().decode(stderr)}`);
  return binary;
}

/** Runs a built Go program (bounded by 30 s); asserts exit 0 and returns its stdout lines. */
export async function runGo(binary: string, args: string[]): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(binary, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  assert.equal(code, 0, text.decode(stderr));
  return text.decode(stdout).trim().split("\n");
}
