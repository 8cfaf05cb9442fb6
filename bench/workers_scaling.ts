/**
 * `server.workers` scaling: svc with 1 worker (the default, one event loop)
 * against N workers, and grpc-go with all its cores, on the bench's service
 * (bench/svc/default), in one run with the contenders interleaved. Nothing
 * is pinned: the servers may use every core, and h2load shares them (on a
 * 2-core machine there is no core to set apart for it). For each case it
 * prints calls/s, the server's CPU per call and how many cores it kept busy.
 *
 * `--cpu-per-worker F` measures scaling where cores are too few to set the
 * load generator apart: each server runs in its own cgroup (v1 `cpu`, so it
 * needs root) capped at F cores per worker (grpc-go: per GOMAXPROCS), so 1
 * worker gets F cores, N workers N × F, and h2load keeps the rest. grpc-go
 * then runs twice, GOMAXPROCS 1 and N under the same caps, as the yardstick
 * of what the method shows for a server known to scale.
 *
 *   deno run -A bench/workers_scaling.ts [--workers 2] [--repeat 3] [--seconds 8]
 *     [--cpu-per-worker 0.4] [--out FILE]
 *
 * Needs h2load, and bench/.go/bin/echo-server for grpc-go (`deno task bench`
 * builds it; without it grpc-go is left out).
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath as fromFileUrl } from "node:url";
import { freePort } from "../tests/_free_port.ts";
import { grpcFrame, msg, STREAM_COUNT, streamRequest } from "./_cases.ts";
import { taskV8Flags } from "./_contenders.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const GO_SERVER = `${ROOT}bench/.go/bin/echo-server`;
const TICKS_PER_SECOND = 100;

interface Case {
  name: string;
  method: string;
  body: Uint8Array;
  connections: number;
  streams: number;
}

interface Contender {
  name: string;
  /** Workers (svc) or GOMAXPROCS (grpc-go): what `--cpu-per-worker` multiplies. */
  cores: number;
  /** The program and its arguments, and the environment it adds. */
  command(port: number, adminPort: number): { argv: string[]; env: Record<string, string> };
}

interface Sample {
  contender: string;
  case: string;
  callsPerSecond: number;
  cpuUsPerCall: number;
  coresBusy: number;
  failed: number;
}

const args = parseArgs({
  args: Deno.args,
  options: {
    workers: { type: "string", default: "2" },
    repeat: { type: "string", default: "3" },
    seconds: { type: "string", default: "8" },
    "cpu-per-worker": { type: "string" },
    out: { type: "string" },
  },
});
const WORKERS = Number(args.values.workers);
const REPEAT = Number(args.values.repeat);
const SECONDS = Number(args.values.seconds);
const CPU_PER_WORKER = args.values["cpu-per-worker"] === undefined
  ? undefined
  : Number(args.values["cpu-per-worker"]);
const CGROUP_ROOT = "/sys/fs/cgroup/cpu";
/** A short CFS period, so a capped server is throttled in small slices, not 60 ms stalls. */
const CFS_PERIOD_US = 20_000;

const CASES: Case[] = [
  {
    name: "unary-small",
    method: "Say",
    body: grpcFrame(msg(10)),
    connections: 16,
    streams: 32,
  },
  {
    name: "unary-64k",
    method: "Say",
    body: grpcFrame(msg(65536)),
    connections: 16,
    streams: 8,
  },
  {
    name: "stream-1000",
    method: "Stream",
    body: grpcFrame(streamRequest(STREAM_COUNT, 10)),
    connections: 8,
    streams: 4,
  },
];

function svc(name: string, workers: number): Contender {
  // As `deno task svc` starts it: with the V8 flags of deno.json's task.
  const flags = taskV8Flags(ROOT);
  return {
    name,
    cores: workers,
    command: (port, adminPort) => ({
      argv: [
        Deno.execPath(),
        "run",
        "-A",
        ...(flags ? [`--v8-flags=${flags}`] : []),
        `${ROOT}main.ts`,
        "run",
        `${ROOT}bench/svc/default/svc.yaml`,
      ],
      env: {
        SVC_SERVER_PORT: String(port),
        SVC_ADMIN_PORT: String(adminPort),
        SVC_SERVER_WORKERS: String(workers),
        SVC_LOGGING_LEVEL: "warn",
      },
    }),
  };
}

function grpcGo(name: string, maxProcs?: number): Contender {
  return {
    name,
    cores: maxProcs ?? navigator.hardwareConcurrency,
    command: (port) => ({
      argv: [GO_SERVER, String(port)],
      env: maxProcs === undefined ? {} : { GOMAXPROCS: String(maxProcs) } as Record<string, string>,
    }),
  };
}

const CONTENDERS: Contender[] = [
  svc("svc-1-worker", 1),
  svc(`svc-${WORKERS}-workers`, WORKERS),
];
if (await Deno.stat(GO_SERVER).catch(() => null)) {
  if (CPU_PER_WORKER === undefined) CONTENDERS.push(grpcGo("grpc-go"));
  else CONTENDERS.push(grpcGo("grpc-go-1-proc", 1), grpcGo(`grpc-go-${WORKERS}-procs`, WORKERS));
}

/**
 * Starts a contender, inside a cgroup capped at `cores × --cpu-per-worker`
 * when that is set. The shell joins the cgroup and then execs the server, so
 * the server's pid is the child's and every thread it starts is capped too.
 */
async function spawn(contender: Contender, port: number, adminPort: number) {
  const { argv, env } = contender.command(port, adminPort);
  let cgroup: string | undefined;
  let program = argv;
  if (CPU_PER_WORKER !== undefined) {
    cgroup = `${CGROUP_ROOT}/svc-bench-${Deno.pid}-${contender.name}`;
    await Deno.mkdir(cgroup, { recursive: true });
    await Deno.writeTextFile(`${cgroup}/cpu.cfs_period_us`, String(CFS_PERIOD_US));
    const quota = Math.round(contender.cores * CPU_PER_WORKER * CFS_PERIOD_US);
    await Deno.writeTextFile(`${cgroup}/cpu.cfs_quota_us`, String(quota));
    program = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, ...argv];
  }
  const child = new Deno.Command(program[0], {
    args: program.slice(1),
    env,
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    child,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
      // A cgroup can be removed once its last task has gone; the kernel reaps it just after.
      for (let attempt = 0; cgroup && attempt < 50; attempt++) {
        try {
          await Deno.remove(cgroup);
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    },
  };
}

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

async function waitForPort(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ port, hostname: "127.0.0.1" });
      conn.close();
      // svc answers before all its workers listen: give them a moment to.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`nothing listened on ${port} within ${timeoutMs} ms`);
}

async function h2load(port: number, c: Case, seconds: number, bodyFile: string) {
  const out = await new Deno.Command("h2load", {
    args: [
      `-c${c.connections}`,
      `-m${c.streams}`,
      "-t2",
      `-D${seconds}`,
      "-d",
      bodyFile,
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      `http://127.0.0.1:${port}/bench.Echo/${c.method}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const match = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(
    text,
  );
  if (!match) throw new Error(`h2load said: ${text}${new TextDecoder().decode(out.stderr)}`);
  return { succeeded: Number(match[1]), failed: Number(match[2]) };
}

async function measure(contender: Contender, c: Case, bodyFile: string): Promise<Sample> {
  const port = await freePort();
  const adminPort = await freePort();
  const { child, stop } = await spawn(contender, port, adminPort);
  try {
    await waitForPort(port);
    await h2load(port, c, 2, bodyFile); // warm-up
    const before = cpuTicks(child.pid);
    const started = performance.now();
    const { succeeded, failed } = await h2load(port, c, SECONDS, bodyFile);
    const seconds = (performance.now() - started) / 1e3;
    const cpuSeconds = (cpuTicks(child.pid) - before) / TICKS_PER_SECOND;
    const calls = succeeded;
    return {
      contender: contender.name,
      case: c.name,
      callsPerSecond: calls / seconds,
      cpuUsPerCall: cpuSeconds * 1e6 / calls,
      coresBusy: cpuSeconds / seconds,
      failed,
    };
  } finally {
    await stop();
  }
}

const dir = await Deno.makeTempDir({ prefix: "svc-workers-bench-" });
const samples: Sample[] = [];
try {
  for (const c of CASES) {
    const bodyFile = `${dir}/${c.name}.bin`;
    await Deno.writeFile(bodyFile, c.body);
    for (let rep = 0; rep < REPEAT; rep++) {
      // Interleaved, and the order turned each repetition, so drift hits all alike.
      const order = rep % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
      for (const contender of order) {
        const sample = await measure(contender, c, bodyFile);
        samples.push(sample);
        console.error(
          `${c.name} ${contender.name} rep ${rep + 1}: ${
            Math.round(sample.callsPerSecond)
          } calls/s, ` +
            `${sample.cpuUsPerCall.toFixed(2)} µs CPU/call, ${sample.coresBusy.toFixed(2)} cores`,
        );
      }
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
if (CPU_PER_WORKER !== undefined) {
  console.log(`servers capped at ${CPU_PER_WORKER} cores per worker (grpc-go: per GOMAXPROCS)`);
}
console.log(
  `| case | contender | calls/s (median of ${REPEAT}) | vs 1 worker | server CPU µs/call | cores busy |`,
);
console.log("|---|---|---:|---:|---:|---:|");
for (const c of CASES) {
  const of = (name: string) => samples.filter((s) => s.case === c.name && s.contender === name);
  const svcOne = median(of("svc-1-worker").map((s) => s.callsPerSecond));
  const goOne = CPU_PER_WORKER === undefined
    ? svcOne
    : median(of("grpc-go-1-proc").map((s) => s.callsPerSecond));
  for (const contender of CONTENDERS) {
    const mine = of(contender.name);
    if (mine.length === 0) continue;
    const rate = median(mine.map((s) => s.callsPerSecond));
    // Under caps each server is set against its own one-core figure; else all against svc's.
    const one = contender.name.startsWith("grpc-go") ? goOne : svcOne;
    console.log(
      `| ${c.name} | ${contender.name} | ${Math.round(rate).toLocaleString("en-US")} | ` +
        `${(rate / one).toFixed(2)}× | ${median(mine.map((s) => s.cpuUsPerCall)).toFixed(2)} | ` +
        `${median(mine.map((s) => s.coresBusy)).toFixed(2)} |`,
    );
  }
}
if (args.values.out) {
  await Deno.writeTextFile(
    args.values.out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        workers: WORKERS,
        cpuPerWorker: CPU_PER_WORKER ?? null,
        samples,
      },
      null,
      2,
    ),
  );
}
