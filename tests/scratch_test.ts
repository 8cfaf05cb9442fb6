/**
 * The `FROM scratch` image's file set, proved at run time without Docker:
 * runtime/cli/build/rootfs.ts (what the Dockerfile's final stage copies)
 * fills an empty directory, and the runtime serves from it under `chroot`
 * as uid 65532 while real gRPC and HTTP calls come from outside.
 *
 * The `deno` binary stands in for the compiled `svc` (denort links the same
 * libraries), so the root also holds what only the stand-in needs, under
 * /app: the entry module's graph, deno.json, deno.lock and node_modules
 * (a compiled binary carries all of these inside). The container runtime's
 * own mounts are mimicked by mounting /proc in a private mount namespace
 * (`unshare --mount`); /dev, /tmp, /etc/hosts and /etc/resolv.conf are left
 * out, so the test is stricter than a real container.
 */
import assert from "node:assert/strict";
import { delimiter, dirname, join, relative } from "node:path";
import {
  assembleRoot,
  buildBinary,
  CONTAINER_UID,
  findDenort,
  runtimePermissionFlags,
} from "../runtime/cli/build/mod.ts";
import { type GeneratedEntry, generateEntry, localModules, smokeDemo } from "./_build.ts";
import { ROOT } from "./_harness.ts";
import { runToEnd, spawnServer } from "./_spawn.ts";

const CONFIG = `${ROOT}/config/svc.yaml`;
const UNSHARE = _which("unshare");
const CHROOT = _which("chroot");
const SKIP = Deno.build.os !== "linux"
  ? "not Linux"
  : Deno.uid() !== 0
  ? "not root (chroot and mount need it; CI runs as root)"
  : !UNSHARE || !CHROOT
  ? "unshare or chroot missing (util-linux, coreutils)"
  : null;
if (SKIP) console.log(`scratch_test: skipped: ${SKIP}`);
const DENORT = findDenort();
if (!SKIP && !DENORT) {
  console.log("scratch_test: compiled-binary run skipped: no denort (set DENORT_BIN)");
}

/** Paths a scratch image must not have, and the runtime must not need. */
const ABSENT = ["/bin", "/tmp", "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/usr"];

Deno.test({
  name: "scratch root: the runtime serves real calls as uid 65532 and exits 0 on SIGTERM",
  ignore: SKIP !== null,
  async fn(t) {
    await using root = await tempRoot();
    await using generated = await generateEntry(CONFIG);
    const image = await assembleRoot({
      root: root.dir,
      binary: Deno.execPath(),
      binaryPath: "/deno",
      config: CONFIG,
    });

    await t.step("the root holds only the image's files", async () => {
      assert.deepEqual(await listFiles(root.dir), image.files);
      for (const path of ["/etc/passwd", "/etc/group", "/etc/ssl/certs/ca-certificates.crt"]) {
        assert.ok(image.files.includes(path), path);
      }
      assert.ok(image.files.some((f) => /\/libc\.so\.6$/.test(f)), "glibc");
      assert.ok(image.files.some((f) => /\/ld-linux[^/]*\.so\.\d$/.test(f)), "the loader");
      assert.ok(image.files.includes("/etc/svc/proto/helloworld.proto"));
      for (const path of ABSENT) assert.ok(!(await exists(join(root.dir, path))), path);
      assert.match(
        await Deno.readTextFile(join(root.dir, "etc/passwd")),
        /^nonroot:x:65532:65532:/m,
      );
    });

    await stageStandIn(root.dir, generated);
    const entry = "/app/" + relative(ROOT, generated.entry);
    const before = await listFiles(root.dir);
    const server = await startInRoot(root.dir, [
      "/deno",
      "run",
      "--cached-only",
      // Plus node_modules, which a compiled binary reads without a grant (see build_test.ts).
      ...runtimePermissionFlags(generated.config, { allowRead: ["/app/node_modules"] }),
      entry,
      "run",
      "/etc/svc/config.yaml",
    ], { DENO_DIR: "/app/.deno_dir" });
    try {
      await t.step("it runs as the non-root user", async () => {
        assert.equal(await uidOf(server.pid), CONTAINER_UID);
      });
      await t.step(
        "calls, health, reflection, probes and metrics work; SIGTERM exits 0",
        async () => {
          await smokeDemo(server.process);
        },
      );
    } finally {
      await server.process.stop();
    }
    assert.deepEqual(
      await listFiles(root.dir),
      before,
      "nothing was written: a read-only root works",
    );

    await t.step(
      "names resolve from a mounted /etc/hosts, with no NSS libraries or nsswitch.conf",
      async () => {
        // Kubernetes and Docker mount /etc/hosts and /etc/resolv.conf into the
        // container; glibc 2.34+ reads them without libnss_*.so.
        await Deno.writeTextFile(join(root.dir, "etc/hosts"), "127.0.0.1 etcd.example\n");
        await Deno.writeTextFile(join(root.dir, "app/resolve.js"), RESOLVE_SCRIPT);
        const result = await runToEnd(UNSHARE!, [
          ...inRoot(root.dir),
          "/deno",
          "run",
          "--cached-only",
          "--allow-net",
          "/app/resolve.js",
        ], { env: { DENO_DIR: "/app/.deno_dir", NO_COLOR: "1" }, timeoutMs: 30_000 });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), "127.0.0.1 127.0.0.1");
      },
    );
  },
});

/** Resolves a name from /etc/hosts with Deno's and node:dns's resolvers. */
const RESOLVE_SCRIPT = `import { lookup } from "node:dns/promises";
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const conn = await Deno.connect({ hostname: "etcd.example", port: listener.addr.port });
console.log(conn.remoteAddr.hostname, (await lookup("etcd.example")).address);
conn.close();
listener.close();
`;

Deno.test({
  name: "scratch root: the compiled binary serves as /svc, exactly as the image runs it",
  ignore: SKIP !== null || DENORT === null,
  async fn() {
    await using root = await tempRoot();
    await using generated = await generateEntry(CONFIG);
    const binary = join(generated.dir, "svc");
    await buildBinary({
      config: CONFIG,
      output: binary,
      buildDir: generated.dir,
      timeoutMs: 300_000,
    });
    await assembleRoot({ root: root.dir, binary, config: CONFIG });
    const server = await startInRoot(root.dir, ["/svc", "run", "/etc/svc/config.yaml"], {});
    try {
      assert.equal(await uidOf(server.pid), CONTAINER_UID);
      await smokeDemo(server.process);
    } finally {
      await server.process.stop();
    }
  },
});

/** An empty directory for a root; `await using` removes it. */
async function tempRoot(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "svc_scratch_" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/**
 * What only the `deno` stand-in needs, under /app: the entry's local module
 * graph at its repository-relative paths, deno.json, deno.lock and
 * node_modules, plus an empty DENO_DIR (deno runs `--cached-only` and
 * writes nothing).
 */
async function stageStandIn(root: string, generated: GeneratedEntry): Promise<void> {
  const app = join(root, "app");
  const files = [
    ...await localModules(generated.entry),
    join(ROOT, "deno.json"),
    join(ROOT, "deno.lock"),
  ];
  for (const file of files) {
    const target = join(app, relative(ROOT, file));
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(file, target);
  }
  // cp -a keeps node_modules' relative symlinks into node_modules/.deno.
  const cp = await new Deno.Command("cp", { args: ["-a", join(ROOT, "node_modules"), app] })
    .output();
  assert.equal(cp.code, 0, new TextDecoder().decode(cp.stderr));
  await Deno.mkdir(join(app, ".deno_dir"));
  await Deno.mkdir(join(root, "proc"));
}

/**
 * Runs `argv` in `root` (see {@link inRoot}) and waits for "serving".
 */
async function startInRoot(root: string, argv: string[], env: Record<string, string>) {
  await Deno.mkdir(join(root, "proc"), { recursive: true });
  let pid = 0;
  const process = await spawnServer(UNSHARE!, [...inRoot(root), ...argv], {
    env: {
      SVC_SERVER_PORT: "0",
      SVC_ADMIN_PORT: "0",
      SVC_SHUTDOWN_DRAIN_DELAY: "0s",
      NO_COLOR: "1",
      ...env,
    },
    // unshare --fork does not forward signals: they go to its child.
    signalTarget: async (unsharePid) => pid ||= await childOf(unsharePid),
  });
  pid ||= await childOf(process.pid);
  return { process, pid };
}

/**
 * `unshare` arguments that run a command in `root` as uid/gid 65532 with
 * /proc mounted in a private mount namespace (gone when the command ends).
 */
function inRoot(root: string): string[] {
  return [
    "--mount",
    "--fork",
    "--kill-child",
    `--mount-proc=${join(root, "proc")}`,
    CHROOT!,
    `--userspec=${CONTAINER_UID}:${CONTAINER_UID}`,
    root,
  ];
}

/** The single child of `pid` (the server, under `unshare --fork`). */
async function childOf(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`);
  const child = Number(text.trim().split(/\s+/)[0]);
  if (!child) throw new Error(`process ${pid} has no child`);
  return child;
}

async function uidOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

/** Every file and symlink under `dir` (not /proc), as absolute paths inside it, sorted. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const path = `${prefix}/${entry.name}`;
    if (path === "/proc") continue;
    if (entry.isDirectory) out.push(...await listFiles(dir, path));
    else out.push(path);
  }
  return out.sort();
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

function _which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(delimiter)) {
    try {
      if (Deno.statSync(join(dir, name)).isFile) return join(dir, name);
    } catch {
      // Not here.
    }
  }
  return null;
}
