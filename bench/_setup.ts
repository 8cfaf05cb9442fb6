/**
 * What the bench needs besides Deno: grpc-js for Node (npm, into
 * bench/.node), connect-node's descriptors, the grpc-go server (built in GOPATH mode from Debian's
 * packages, into bench/.go) and the Go ping-pong client, h2load, and the versions for the report.
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { run } from "./_process.ts";

/** The bench folder and the repository root. */
export const BENCH_DIR = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
/** The repository root (where deno.json is). */
export const ROOT = join(BENCH_DIR, "..");
/** The proto every contender serves. */
export const PROTO = join(BENCH_DIR, "proto", "bench.proto");
/** Node's own copy of grpc-js, and the Node scripts placed beside it. */
export const NODE_DIR = join(BENCH_DIR, ".node");
const GO_DIR = join(BENCH_DIR, ".go");
const GO_PATH_SYSTEM = "/usr/share/gocode";

/** The npm packages (with versions) deno.json pins, for Node to use the same. */
function pinnedNpm(names: string[]): string[] {
  const { imports } = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
  return names.map((name) => {
    const spec = imports[name] as string | undefined;
    if (!spec?.startsWith("npm:")) throw new Error(`deno.json has no npm import for ${name}`);
    return spec.slice(4);
  });
}

/** The grpc-js version in `node_modules` under `dir`, or null. */
export function grpcJsVersion(dir: string): string | null {
  try {
    const file = join(dir, "node_modules", "@grpc", "grpc-js", "package.json");
    return JSON.parse(Deno.readTextFileSync(file)).version;
  } catch {
    return null;
  }
}

/**
 * Installs deno.json's grpc-js and proto-loader for Node into bench/.node
 * (once), and copies the Node-run scripts beside them so Node resolves the
 * imports there.
 */
export async function prepareNode(node: string): Promise<void> {
  const specs = pinnedNpm(["@grpc/grpc-js", "@grpc/proto-loader"]);
  const wanted = specs[0].split("@").pop();
  if (grpcJsVersion(NODE_DIR) !== wanted) {
    console.error(`setup: npm install --prefix bench/.node ${specs.join(" ")}`);
    Deno.mkdirSync(NODE_DIR, { recursive: true });
    const out = await run(
      ["npm", "install", "--no-audit", "--no-fund", "--prefix", NODE_DIR, ...specs],
      { timeoutMs: 300_000, cwd: NODE_DIR },
    );
    if (out.code !== 0) throw new Error(`npm install failed: ${out.stderr.trim()}`);
  }
  for (const file of ["servers/grpcjs_server.mjs", ...clientScripts()]) {
    Deno.copyFileSync(join(BENCH_DIR, file), join(NODE_DIR, file.split("/").pop()!));
  }
  const version = await run([node, "--version"], { timeoutMs: 10_000 });
  if (version.code !== 0) throw new Error(`${node} --version failed`);
}

function clientScripts(): string[] {
  return [...Deno.readDirSync(join(BENCH_DIR, "clients"))]
    .filter((e) => e.name.endsWith(".mjs"))
    .map((e) => `clients/${e.name}`);
}

/** The connect-node contender's server script and its descriptor set. */
export interface ConnectNode {
  readonly script: string;
  readonly descriptors: string;
  readonly version: string;
}

/**
 * Readies the connect-node contender: Node must resolve
 * `@connectrpc/connect-node` and `@bufbuild/protobuf` from the repository's
 * node_modules (where Deno links deno.json's npm packages), and protoc
 * compiles the served protos into a descriptor set in bench/.node (what
 * codegen would embed). Resolves with the reason when it cannot.
 */
export async function prepareConnectNode(node: string): Promise<ConnectNode | { skip: string }> {
  const script = join(BENCH_DIR, "servers", "connect_node_server.mjs");
  const probe = await run([
    node,
    "--input-type=module",
    "-e",
    'await import("@connectrpc/connect-node"); await import("@bufbuild/protobuf/wkt");',
  ], { timeoutMs: 30_000, cwd: join(BENCH_DIR, "servers") });
  if (probe.code !== 0) {
    return {
      skip: `Node cannot import @connectrpc/connect-node from ${ROOT}/node_modules ` +
        `(deno install fills it): ${firstLine(probe.stderr)}`,
    };
  }
  Deno.mkdirSync(NODE_DIR, { recursive: true });
  const descriptors = join(NODE_DIR, "connect_node.binpb");
  const helloworld = join(ROOT, "proto", "helloworld.proto");
  const gen = await run([
    "protoc",
    "--include_imports",
    `--descriptor_set_out=${descriptors}`,
    `-I${join(ROOT, "proto")}`,
    `-I${join(BENCH_DIR, "proto")}`,
    helloworld,
    PROTO,
  ], { timeoutMs: 60_000 }).catch((e: Error) => ({ code: 1, stderr: e.message }));
  if (gen.code !== 0) {
    return { skip: `protoc --descriptor_set_out failed: ${firstLine(gen.stderr)}` };
  }
  let version = "";
  try {
    const pkg = join(ROOT, "node_modules", "@connectrpc", "connect-node", "package.json");
    version = JSON.parse(Deno.readTextFileSync(pkg)).version;
  } catch { /* the version is for the report only */ }
  return { script, descriptors, version };
}

/** Fails with the install hint when h2load is missing. */
export async function requireH2load(): Promise<string> {
  const out = await run(["h2load", "--version"], { timeoutMs: 5_000 }).catch(() => null);
  if (!out || out.code !== 0) {
    throw new Error("h2load is missing: apt-get install -y nghttp2-client");
  }
  return out.stdout.trim();
}

/**
 * Builds the grpc-go server (GOPATH mode, Debian's golang-google-grpc-dev,
 * no module proxy) into bench/.go, unless it is current. Resolves with the
 * binary, or with the one-line reason it cannot be built.
 */
export async function buildGo(): Promise<{ binary: string } | { skip: string }> {
  const missing = await goMissing("google.golang.org/grpc", ["protoc", "protoc-gen-go"]);
  if (missing) return { skip: missing };
  const pkg = join(GO_DIR, "src", "benchecho");
  return await goBuild(
    "echo-server",
    pkg,
    [join(BENCH_DIR, "servers/go/main.go"), PROTO],
    async () => {
      Deno.mkdirSync(join(pkg, "pb"), { recursive: true });
      const gen = await run([
        "protoc",
        `-I${join(BENCH_DIR, "proto")}`,
        `--go_out=plugins=grpc,paths=source_relative:${join(pkg, "pb")}`,
        PROTO,
      ], { timeoutMs: 60_000 });
      return gen.code === 0 ? null : `protoc --go_out failed: ${firstLine(gen.stderr)}`;
    },
  );
}

/**
 * Builds the raw-HTTP/2 ping-pong client (clients/go_pingpong, on Debian's
 * golang.org/x/net) into bench/.go, unless it is current.
 */
export async function buildGoPingpong(): Promise<{ binary: string } | { skip: string }> {
  const missing = await goMissing("golang.org/x/net/http2", []);
  if (missing) return { skip: missing };
  const pkg = join(GO_DIR, "src", "gopingpong");
  return await goBuild("go_pingpong", pkg, [join(BENCH_DIR, "clients/go_pingpong/main.go")]);
}

const GO_HINT =
  "apt-get install golang-go golang-google-grpc-dev golang-goprotobuf-dev protobuf-compiler";

/** Why a Go program importing `pkg` and needing `tools` cannot be built here, or null. */
async function goMissing(pkg: string, tools: string[]): Promise<string | null> {
  for (const tool of ["go", ...tools]) {
    const found = await run(["sh", "-c", `command -v ${tool}`], { timeoutMs: 5_000 });
    if (found.code !== 0) return `${tool} is not installed (${GO_HINT})`;
  }
  if (!existsSync(join(GO_PATH_SYSTEM, "src", pkg))) {
    return `${pkg} is not in ${GO_PATH_SYSTEM} (${GO_HINT})`;
  }
  return null;
}

/**
 * Builds the Go package `pkg` (its main.go is `sources[0]`) into
 * bench/.go/bin/`name` in GOPATH mode, unless the sources' times match the
 * last build's. `prepare` generates code first; it returns an error or null.
 */
async function goBuild(
  name: string,
  pkg: string,
  sources: string[],
  prepare: () => Promise<string | null> = () => Promise.resolve(null),
): Promise<{ binary: string } | { skip: string }> {
  const binary = join(GO_DIR, "bin", name);
  const stamp = sources.map((f) => Deno.statSync(f).mtime?.getTime()).join(",");
  const stampFile = join(GO_DIR, `${name}.stamp`);
  if (existsSync(binary) && existsSync(stampFile) && Deno.readTextFileSync(stampFile) === stamp) {
    return { binary };
  }
  console.error(`setup: building ${name} (GOPATH mode, no module proxy)`);
  Deno.mkdirSync(pkg, { recursive: true });
  Deno.mkdirSync(join(GO_DIR, "bin"), { recursive: true });
  Deno.copyFileSync(sources[0], join(pkg, "main.go"));
  const failed = await prepare();
  if (failed) return { skip: failed };
  const build = await run(["go", "build", "-o", binary, "."], {
    timeoutMs: 300_000,
    cwd: pkg,
    env: {
      GO111MODULE: "off",
      GOPATH: `${GO_DIR}:${GO_PATH_SYSTEM}`,
      GOPROXY: "off",
      GOFLAGS: "",
      GOCACHE: join(GO_DIR, "cache"),
    },
  });
  if (build.code !== 0) return { skip: `go build ${name} failed: ${firstLine(build.stderr)}` };
  Deno.writeTextFileSync(stampFile, stamp);
  return { binary };
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

/** grpc-go's version from the Debian source tree, or null. */
export function grpcGoVersion(): string | null {
  try {
    const text = Deno.readTextFileSync(
      join(GO_PATH_SYSTEM, "src/google.golang.org/grpc/version.go"),
    );
    return /Version = "([^"]+)"/.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** `deno --version`'s first line's version, e.g. "2.8.3". */
export async function denoVersion(deno: string): Promise<string> {
  const out = await run([deno, "--version"], { timeoutMs: 10_000 });
  const version = /deno (\S+)/.exec(out.stdout)?.[1];
  if (out.code !== 0 || !version) throw new Error(`${deno} --version failed: ${out.stderr.trim()}`);
  return version;
}

/** The first line of a command's output, or "" when it fails. */
export async function versionOf(cmd: string[]): Promise<string> {
  const out = await run(cmd, { timeoutMs: 10_000 }).catch(() => null);
  return out?.code === 0 ? firstLine(out.stdout) : "";
}
