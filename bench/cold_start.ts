/**
 * Cold start, step by step: exec → Deno up → module graph loaded → graph
 * evaluated → CLI loaded (bundle or source) → config → protos → handlers → built-ins → serving → first OK call.
 *
 *   deno run -A bench/cold_start.ts [--runs 10] [--config config/svc.yaml]
 *     [--path /helloworld.Greeter/SayHello] [--json]
 *     [--variant LABEL=DIR[:ENTRY][,VAR=VALUE...]]...
 *
 * Each run starts a probe (Node, on CPU 0) that calls PATH every 2 ms, each
 * time on a fresh HTTP/2 connection, until one answers grpc-status 0 with one
 * message. Then it takes t0 and execs `deno run -A ENTRY run CONFIG` (on CPU 1)
 * with SVC_STARTUP_TIMINGS=1, so svc prints its own step times on stderr
 * (runtime/util/startup_timings.ts). The clock stops when the probe says ok.
 * The server's CPU time (all threads, from /proc/PID/task/* /schedstat) is read
 * then, and the server is killed. "serving" is the mark of that name when svc
 * prints one, else the arrival of the "serving" log line.
 *
 * Variants (default: this checkout, main.ts) run interleaved, A B A B ..., so
 * a busy machine disturbs them alike. The request is a HelloRequest whose
 * field 1 holds 10 bytes, which also parses as bench.Msg.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { freePort, kill, PIN, stop, within } from "./_process.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const RUN_TIMEOUT_MS = 15_000;

/** Steps in order; each is the time from the previous one's end. */
const STEPS = [
  ["runtime", "exec → Deno runtime up (performance.timeOrigin)"],
  ["graph", "module graph loaded (first module evaluates)"],
  ["evaluated", "static graph evaluated (main.ts body runs)"],
  ["checked", "bundle manifest read, its inputs stat'ed"],
  ["cli", "CLI loaded: bundle (or source graph) imported and evaluated"],
  ["config", "config: read, YAML, env, validate"],
  ["protos", "protos: parse, resolve, codecs"],
  ["handlers", "handlers: discover, import; middleware; dependencies"],
  ["builtins", "built-ins: health, reflection protos and bindings"],
  // "listening" is marked only if runtime/app/start.ts calls startupMark("listening");
  // without it, the next row holds both.
  ["listening", "metrics, bind the gRPC port"],
  ["serving", "admin server, 'serving' logged"],
  ["ok", "first OK call seen by the probe"],
] as const;

type Step = typeof STEPS[number][0];

interface Variant {
  label: string;
  dir: string;
  entry: string;
  /** Extra environment for the server, e.g. SVC_BUNDLE=0. */
  env: Record<string, string>;
}

interface Sample {
  /** ms since exec at which each step ended. */
  at: Partial<Record<Step, number>>;
  /** Server CPU ms (all threads) at "ok". */
  cpu: number;
}

const PROBE = `
import http2 from "node:http2";
const [port, path, timeoutMs] = process.argv.slice(2);
const body = Buffer.from([0, 0, 0, 0, 12, 0x0a, 10, ...Buffer.alloc(10, 0x61)]);
setTimeout(() => { console.log("timeout"); process.exit(1); }, Number(timeoutMs));
function attempt() {
  return new Promise((resolve) => {
    const session = http2.connect("http://127.0.0.1:" + port);
    let status = null, bytes = 0;
    const done = (ok) => { session.destroy(); resolve(ok); };
    session.on("error", () => done(false));
    const call = session.request({ ":method": "POST", ":path": path,
      "content-type": "application/grpc", te: "trailers" });
    call.on("error", () => done(false));
    call.on("data", (chunk) => bytes += chunk.length);
    call.on("response", (h) => { if (h["grpc-status"] !== undefined) status = h["grpc-status"]; });
    call.on("trailers", (t) => status = t["grpc-status"]);
    call.on("close", () => done(status === "0" && bytes > 5));
    call.end(body);
  });
}
console.log("ready");
for (let attempts = 1;; attempts++) {
  if (await attempt()) { console.log("ok " + attempts); process.exit(0); }
  await new Promise((r) => setTimeout(r, 2));
}
`;

function now(): number {
  return performance.timeOrigin + performance.now();
}

function pinned(cpu: number, cmd: string[]): string[] {
  return PIN ? ["taskset", "-c", String(cpu), ...cmd] : cmd;
}

/** Calls `onLine(line, arrivalEpochMs)` for each line of `stream`. */
async function eachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string, at: number) => void,
): Promise<void> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const at = now();
    rest += text;
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      onLine(rest.slice(0, nl), at);
      rest = rest.slice(nl + 1);
    }
  }
}

/** CPU ms of every thread of `pid` so far (schedstat's first field is ns on CPU). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

async function oneRun(
  variant: Variant,
  config: string,
  path: string,
  probeFile: string,
): Promise<Sample> {
  const port = freePort();
  const probeCmd = pinned(0, ["node", probeFile, String(port), path, String(RUN_TIMEOUT_MS)]);
  const probeChild = new Deno.Command(probeCmd[0], {
    args: probeCmd.slice(1),
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  let server: Deno.ChildProcess | undefined;
  try {
    let said = (_line: string) => {};
    const probeLines = eachLine(probeChild.stdout, (line) => said(line));
    const heard = (want: string) =>
      new Promise<number>((resolve) => {
        said = (line) => {
          if (line.startsWith(want)) resolve(now());
          else if (line === "timeout") resolve(NaN);
        };
      });
    await within(heard("ready"), RUN_TIMEOUT_MS, "probe ready");
    const okHeard = heard("ok");

    const at: Partial<Record<Step, number>> = {};
    const t0 = now();
    const cmd = pinned(1, [Deno.execPath(), "run", "-A", variant.entry, "run", config]);
    server = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: variant.dir,
      env: {
        ...variant.env,
        SVC_STARTUP_TIMINGS: "1",
        SVC_SERVER_PORT: String(port),
        SVC_ADMIN_PORT: String(freePort()),
        SVC_SERVER_HOST: "127.0.0.1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errors: string[] = [];
    // Logs go to stderr (JSON by default); the marks too.
    const serverErr = eachLine(server.stderr, (line, arrived) => {
      const mark = /^svc-startup (\S+) ([\d.]+)$/.exec(line);
      if (mark) at[mark[1] as Step] = Number(mark[2]) - t0;
      else if (at.serving === undefined && /"msg":"serving"|\bserving\b/.test(line)) {
        at.serving = arrived - t0;
      } else errors.push(line);
    });
    const serverOut = eachLine(server.stdout, () => {});
    const ok = await within(okHeard, RUN_TIMEOUT_MS, "probe ok");
    const cpu = cpuMs(server.pid);
    if (Number.isNaN(ok)) throw new Error(`probe timed out; server said:\n${errors.join("\n")}`);
    at.ok = ok - t0;
    kill(server);
    await within(Promise.all([serverErr, serverOut, probeLines]), 5_000, "streams").catch(
      () => {},
    );
    return { at, cpu };
  } finally {
    if (server) await stop(server);
    await stop(probeChild);
  }
}

function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Each step's own duration in each sample (end minus the previous step's end). */
function durations(samples: Sample[], step: Step): number[] {
  const index = STEPS.findIndex(([name]) => name === step);
  return samples.map(({ at }) => {
    const end = at[step];
    if (end === undefined) return NaN;
    for (let i = index - 1; i >= 0; i--) {
      const start = at[STEPS[i][0]];
      if (start !== undefined) return end - start;
    }
    return end;
  });
}

function fmt(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : "—";
}

function table(variants: Variant[], results: Map<string, Sample[]>): string {
  const head = `| step | ${variants.map((v) => `${v.label} median (min–max)`).join(" | ")} |`;
  const rule = `| --- | ${variants.map(() => "---:").join(" | ")} |`;
  const rows = STEPS.map(([step, what]) =>
    `| ${what} | ${
      variants.map((v) => {
        const d = durations(results.get(v.label)!, step).filter(Number.isFinite);
        return d.length ? `${fmt(median(d))} (${fmt(Math.min(...d))}–${fmt(Math.max(...d))})` : "—";
      }).join(" | ")
    } |`
  );
  const total = (v: Variant) => results.get(v.label)!.map((s) => s.at.ok ?? NaN);
  const totals = `| **exec → first OK call** | ${
    variants.map((v) => {
      const t = total(v);
      return `**${fmt(median(t))}** (${fmt(Math.min(...t))}–${fmt(Math.max(...t))})`;
    }).join(" | ")
  } |`;
  const cpu = `| server CPU at first OK | ${
    variants.map((v) => fmt(median(results.get(v.label)!.map((s) => s.cpu)))).join(" | ")
  } |`;
  return [head, rule, ...rows, totals, cpu].join("\n");
}

/** LABEL=DIR[:ENTRY][,VAR=VALUE...] */
function parseVariant(spec: string): Variant {
  const eq = spec.indexOf("=");
  if (eq < 1) throw new Error(`--variant ${spec}: expected LABEL=DIR[:ENTRY][,VAR=VALUE...]`);
  const [where, ...vars] = spec.slice(eq + 1).split(",");
  const [dir, entry = "main.ts"] = where.split(":");
  const env = Object.fromEntries(
    vars.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]),
  );
  return { label: spec.slice(0, eq), dir, entry, env };
}

async function mainCli(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "10" },
      config: { type: "string", default: "config/svc.yaml" },
      path: { type: "string", default: "/helloworld.Greeter/SayHello" },
      variant: { type: "string", multiple: true },
      json: { type: "boolean", default: false },
    },
  });
  const variants = (values.variant ?? [`this=${ROOT}`]).map(parseVariant);
  const runs = Number(values.runs);
  const dir = await Deno.makeTempDir({ prefix: "svc_cold_start_" });
  const probeFile = join(dir, "probe.mjs");
  await Deno.writeTextFile(probeFile, PROBE);
  const results = new Map(variants.map((v) => [v.label, [] as Sample[]]));
  try {
    for (let round = 0; round < runs; round++) {
      for (const variant of variants) {
        const sample = await oneRun(variant, values.config, values.path, probeFile);
        results.get(variant.label)!.push(sample);
        if (!values.json) {
          console.error(`${variant.label} #${round + 1}: ${fmt(sample.at.ok ?? NaN)} ms`);
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  if (values.json) {
    const out = Object.fromEntries(variants.map((v) => {
      const samples = results.get(v.label)!;
      return [v.label, {
        totalMs: median(samples.map((s) => s.at.ok ?? NaN)),
        cpuMs: median(samples.map((s) => s.cpu)),
        stepsMs: Object.fromEntries(STEPS.map(([s]) => [s, median(durations(samples, s))])),
        samples,
      }];
    }));
    console.log(JSON.stringify(out, null, 2));
  } else {
    console.log(table(variants, results));
  }
}

if (import.meta.main) await mainCli();
