/**
 * Where a server spends its time under one load case: a V8 CPU profile
 * (`--cpu-prof`, Deno contenders) summed by function and by owner (svc's
 * runtime, grpc-js, protobufjs, Deno internals...), or a syscall count
 * (`strace -c -f`) per call. Same processes, pinning and load as run.ts.
 *
 *   deno run -A bench/profile.ts cpu [--contender svc-native] [--case unary-small] [--duration 10] [--top 30]
 *   deno run -A bench/profile.ts syscalls [--contender grpcjs-deno] [--case unary-small] [--duration 5]
 *   deno run -A bench/profile.ts analyze bench/results/svc-native-unary-small.cpuprofile
 *
 * BENCH_GRPC_OPTIONS (JSON) is passed to the bare grpc-js servers.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CASES } from "./_cases.ts";
import { createContenders, servesCase } from "./_contenders.ts";
import { startOtlpSink } from "./_otlp_sink.ts";
import { cpuSettled } from "./_measure.ts";
import { createLoad } from "./_load.ts";
import {
  cpuSeconds,
  freePort,
  LOAD_CPU,
  pinSelf,
  run,
  SERVER_CPU,
  startLogged,
  stop,
  stopAll,
  tail,
  within,
} from "./_process.ts";
import {
  buildGo,
  buildGoPingpong,
  denoVersion,
  prepareConnectNode,
  prepareNode,
  ROOT,
} from "./_setup.ts";

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    contender: { type: "string", default: "svc-native" },
    case: { type: "string", default: "unary-small" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    top: { type: "string", default: "30" },
    node: { type: "string", default: "node" },
  },
});
const mode = positionals[0] ?? "cpu";
if (mode === "analyze") {
  summarizeProfile(JSON.parse(Deno.readTextFileSync(positionals[1])), Number(values.top));
  Deno.exit(0);
}
if (mode !== "cpu" && mode !== "syscalls") {
  throw new Error(`unknown mode "${mode}": cpu | syscalls | analyze FILE`);
}
const benchCase = CASES.find((c) => c.name === values.case);
if (!benchCase) throw new Error(`--case must be one of ${CASES.map((c) => c.name).join(", ")}`);
const seconds = Number(values.duration);

if (mode === "syscalls") {
  const found = await run(["sh", "-c", "command -v strace"], { timeoutMs: 5_000 });
  if (found.code !== 0) throw new Error("strace is missing: apt-get install -y strace");
}
await pinSelf();
await prepareNode(values.node);
const go = await buildGo();
const pingpong = benchCase.pingpongClient === "go" ? await buildGoPingpong() : null;
if (pingpong && "skip" in pingpong) throw new Error(`Go ping-pong client: ${pingpong.skip}`);
const deno = { path: Deno.execPath(), version: await denoVersion(Deno.execPath()) };
const connectNode = values.contender === "connect-node"
  ? await prepareConnectNode(values.node)
  : { skip: "not asked for" };
if (values.contender === "connect-node" && "skip" in connectNode) throw new Error(connectNode.skip);
const contender = createContenders(
  [deno],
  { path: values.node, version: "" },
  "binary" in go ? go.binary : null,
  null,
  [],
  "skip" in connectNode ? null : connectNode,
)
  .find((c) => c.name === values.contender);
if (!contender) throw new Error(`unknown contender ${values.contender}`);
if (!servesCase(contender, benchCase)) {
  throw new Error(`${contender.name} does not serve ${benchCase.name}`);
}

const sink = contender.name.includes("-tracing-") ? await startOtlpSink() : null;
const tmp = await Deno.makeTempDir({ prefix: "svc-profile-" });
const port = freePort();
const { cmd, env } = contender.command(port, freePort());
const profiling = mode === "cpu" && cmd.includes("run");
if (mode === "cpu" && !profiling) throw new Error("cpu profiles are for Deno contenders");
// `deno run -A ...` → `deno run -A --cpu-prof --cpu-prof-dir=TMP ...`
const full = profiling
  ? [...cmd.slice(0, 3), "--cpu-prof", `--cpu-prof-dir=${tmp}`, ...cmd.slice(3)]
  : cmd;
const log = join(tmp, "server.log");
const server = startLogged(full, { cpu: SERVER_CPU, log, cwd: ROOT, env });
try {
  await waitForPort(port);
  const load = createLoad(benchCase, port, {
    tmp,
    node: values.node,
    goPingpong: pingpong?.binary ?? null,
  });
  await load(Number(values.warmup));
  const settled = await cpuSettled(server.pid);
  if (settled > 1) console.log(`(the server stayed busy ${settled} s after the warm-up stopped)`);
  if (mode === "syscalls") {
    const strace = new Deno.Command("taskset", {
      args: [
        "-c",
        String(LOAD_CPU),
        "strace",
        "-c",
        "-f",
        "-e",
        "trace=sendto,sendmsg,writev,write,recvfrom,read",
        "-p",
        String(server.pid),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await new Promise((r) => setTimeout(r, 500));
    const cpu0 = cpuSeconds(server.pid);
    const r = await load(seconds);
    const cpu = cpuSeconds(server.pid) - cpu0;
    strace.kill("SIGINT");
    const out = await within(strace.output(), 10_000, "strace");
    const table = new TextDecoder().decode(out.stderr);
    console.log(
      `${contender.name} ${benchCase.name}: ${
        Math.round(r.rate)
      } calls/s, ${r.calls} calls, server CPU ${
        (cpu * 1e6 / r.calls).toFixed(1)
      } µs/call (under strace)`,
    );
    for (const line of table.split("\n")) {
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
      if (m) {
        console.log(
          `  ${m[2].padEnd(9)} ${m[1].padStart(9)} calls  ${
            (Number(m[1]) / r.calls).toFixed(3)
          } per call`,
        );
      }
    }
  } else {
    const r = await load(seconds);
    console.log(
      `${contender.name} ${benchCase.name}: ${Math.round(r.rate)} calls/s under --cpu-prof`,
    );
  }
} finally {
  if (profiling) {
    // SIGINT lets Deno exit normally and write the profile (svc exits on it
    // after its drain; the bare server exits on it at once).
    server.child.kill("SIGINT");
    await within(server.child.status, 15_000, "server exit").catch(() => {});
  }
  await stop(server.child);
  await stopAll();
  await sink?.stop();
}
if (profiling) {
  const file = [...Deno.readDirSync(tmp)].find((e) => e.name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile written; server log:\n${tail(log)}`);
  const saved = join(ROOT, "bench", "results", `${contender.name}-${benchCase.name}.cpuprofile`);
  Deno.copyFileSync(join(tmp, file.name), saved);
  summarizeProfile(JSON.parse(Deno.readTextFileSync(saved)), Number(values.top));
  console.log(`profile: ${saved.slice(ROOT.length + 1)} (open in Chrome DevTools → Performance)`);
}
await Deno.remove(tmp, { recursive: true });

async function waitForPort(p: number): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port: p })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`nothing listens on ${p}; log:\n${tail(log)}`);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Who a function belongs to, from its script URL. */
function owner(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native/V8)";
  if (url.includes("/runtime/")) return "svc runtime";
  if (url.includes("/bench/")) return "bench handler/server";
  if (url.includes("grpc-js")) return "grpc-js";
  if (url.includes("proto-loader")) return "proto-loader";
  if (url.includes("protobufjs") || url.includes("@protobufjs")) return "protobufjs";
  if (url.includes("prom-client")) return "prom-client";
  if (url.startsWith("ext:") || url.startsWith("node:")) return "Deno internals (ext:/node:)";
  return "other";
}

function summarizeProfile(profile: Profile, top: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
    total += dt;
  }
  const byFunction = new Map<string, { us: number; owner: string }>();
  const byOwner = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const who = owner(url, functionName);
    const short = url.replace(/^file:\/\/.*?\/(runtime|bench|node_modules)\//, "$1/")
      .replace(/node_modules\/\.deno\/[^/]+\/node_modules\//, "");
    const key = `${functionName || "(anonymous)"} ${short ? `${short}:${lineNumber + 1}` : ""}`
      .trim();
    const entry = byFunction.get(key) ?? { us: 0, owner: who };
    entry.us += us;
    byFunction.set(key, entry);
    byOwner.set(who, (byOwner.get(who) ?? 0) + us);
  }
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n: ProfileNode) => {
    const { functionName, url, lineNumber } = n.callFrame;
    const short = url.replace(/^file:\/\/.*?\/(runtime|bench|node_modules)\//, "$1/")
      .replace(/node_modules\/\.deno\/[^/]+\/node_modules\//, "");
    return `${functionName || "(anonymous)"} ${short ? `${short}:${lineNumber + 1}` : ""}`.trim();
  };
  const inclusive = new Map<string, number>();
  let underRuntime = 0;
  for (const [id, us] of self) {
    const seen = new Set<string>();
    let runtimeOnStack = false;
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const node = byId.get(n)!;
      if (owner(node.callFrame.url, node.callFrame.functionName) === "svc runtime") {
        runtimeOnStack = true;
      }
      seen.add(keyOf(node));
    }
    for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    if (runtimeOnStack) underRuntime += us;
  }
  const busy = total - (byOwner.get("(idle)") ?? 0);
  const pct = (us: number) => `${(100 * us / busy).toFixed(1).padStart(5)}%`;
  console.log(
    `\nself time by owner (share of non-idle time, ${(busy / 1e6).toFixed(1)} s busy of ${
      (total / 1e6).toFixed(1)
    } s):`,
  );
  for (const [who, us] of [...byOwner].sort((a, b) => b[1] - a[1])) {
    if (who !== "(idle)") console.log(`  ${pct(us)}  ${who}`);
  }
  console.log(`\ntop ${top} functions by self time:`);
  for (
    const [key, { us, owner: who }] of [...byFunction].sort((a, b) => b[1].us - a[1].us).slice(
      0,
      top,
    )
  ) {
    if (key.startsWith("(idle)")) continue;
    console.log(`  ${pct(us)}  ${who.padEnd(28)} ${key}`);
  }
  const shown = (who: string) => [...byFunction].filter(([, v]) => v.owner === who);
  const byInclusive = (a: [string, unknown], b: [string, unknown]) =>
    (inclusive.get(b[0]) ?? 0) - (inclusive.get(a[0]) ?? 0);
  for (const who of ["svc runtime", "bench handler/server"]) {
    const fns = shown(who).sort(byInclusive).slice(0, top);
    if (!fns.length) continue;
    console.log(`\n${who} functions, self and inclusive time:`);
    for (const [key, { us }] of fns) {
      console.log(`  self ${pct(us)}  incl ${pct(inclusive.get(key) ?? 0)}  ${key}`);
    }
  }
  console.log(`\nsamples with svc runtime code on the stack: ${pct(underRuntime)}`);
}
