/**
 * The svc benchmark: svc (default config and every built-in on, on the
 * grpc-js and the native transport) against bare grpc-js on Deno and on
 * Node, and grpc-go when it builds, side by side in one run; and on the
 * gRPC-Web and Connect cases, svc with the web protocols on against
 * connect-node. See bench/README.md.
 *
 *   deno run -A bench/run.ts [--quick] [--deno PATH[,PATH...]] [--node PATH]
 *     [--cases a,b] [--contenders a,b] [--repeat N] [--duration S] [--warmup S]
 *     [--syscalls S] [--baseline DIR[=NAME]] [--saturation N] [--no-pin]
 * @module
 */
import { join } from "node:path";
import process from "node:process";
import { CASES } from "./_cases.ts";
import { type Options, parseOptions } from "./_options.ts";
import { type Contender, createContenders, type DenoBinary, servesCase } from "./_contenders.ts";
import { type MeasureOptions, measureProcess, type ProcessRun, SYSCALL_CASE } from "./_measure.ts";
import { initClockTicks, PIN, pinSelf, stopAll, unpin } from "./_process.ts";
import { resolveFixedRates, type Saturation } from "./_saturation.ts";
import { render, summarize } from "./_report.ts";
import { renderSyscalls, straceMissing } from "./_syscalls.ts";
import { renderTargets } from "./_targets.ts";
import { startOtlpSink } from "./_otlp_sink.ts";
import {
  BENCH_DIR,
  buildGo,
  buildGoPingpong,
  denoVersion,
  grpcGoVersion,
  grpcJsVersion,
  NODE_DIR,
  prepareConnectNode,
  prepareNode,
  requireH2load,
  ROOT,
  versionOf,
} from "./_setup.ts";

async function main(): Promise<number> {
  const started = performance.now();
  const options = parseOptions(Deno.args);
  if (options.report) {
    console.log(reportOf(JSON.parse(Deno.readTextFileSync(options.report))));
    return 0;
  }
  if (!options.pin) unpin();
  await pinSelf();
  await initClockTicks();
  const h2loadVersion = await requireH2load();
  const denos: DenoBinary[] = [];
  for (const path of options.denos) denos.push({ path, version: await denoVersion(path) });
  await prepareNode(options.node);
  const nodeVersion = await versionOf([options.node, "--version"]);
  const go = await buildGo();
  if ("skip" in go) console.error(`grpc-go: skipped: ${go.skip}`);
  const goPingpong = await goPingpongFor(options);
  const connectSetup = await prepareConnectNode(options.node);
  if ("skip" in connectSetup) console.error(`connect-node: skipped: ${connectSetup.skip}`);
  const connectNode = "skip" in connectSetup ? null : connectSetup;
  if (options.syscalls > 0 && options.cases.some((c) => c.name === SYSCALL_CASE)) {
    const missing = await straceMissing();
    if (missing) {
      console.error(`syscalls per response: skipped: ${missing}`);
      options.syscalls = 0;
    }
  } else options.syscalls = 0;
  const everyContender = createContenders(
    denos,
    { path: options.node, version: nodeVersion },
    "binary" in go ? go.binary : null,
    options.tuning,
    options.baselines,
    connectNode,
    options.v8Variants,
  );
  let contenders = everyContender;
  if (options.only) {
    const missing = options.only.filter((n) => !contenders.some((c) => c.name === n));
    if (missing.length) throw new Error(`unknown or unavailable contender ${missing.join(", ")}`);
    contenders = contenders.filter((c) => options.only!.includes(c.name));
  }
  // A contender with none of the chosen cases to serve (connect-node without a web case) would
  // only be started for its cold start: leave it out, and say so.
  const idle = contenders.filter((c) => !options.cases.some((bc) => servesCase(c, bc)));
  for (const c of idle) console.error(`${c.name}: skipped: it serves none of the chosen cases`);
  contenders = contenders.filter((c) => !idle.includes(c));
  if (!contenders.length) throw new Error("no contender serves the chosen cases");
  const sink = contenders.some((c) => c.name.includes("-tracing-")) ? await startOtlpSink() : null;
  const tmp = await Deno.makeTempDir({ prefix: "svc-bench-" });
  const measure: MeasureOptions = {
    node: options.node,
    goPingpong,
    tmp,
    seconds: options.seconds,
    warmupSeconds: options.warmup,
    warmupFixedRateSeconds: options.warmupFixedRate,
    startTimeoutMs: options.quick ? 60_000 : 30_000,
    syscallSeconds: options.syscalls,
    // Long enough for svc's idle reclaim (two quiet seconds, then the GC); off in --quick.
    settleSeconds: options.quick ? 0 : 5,
  };
  const runs: ProcessRun[] = [];
  let saturation: Saturation | null = null;
  try {
    if (!options.quick) {
      // Not recorded: fills Deno's module cache and proves every contender answers.
      console.error("preflight: starting each contender once");
      for (const c of contenders) {
        const r = await measureProcess(c, [], 0, { ...measure, startTimeoutMs: 120_000 });
        if (r.errors.length) throw new Error(`${c.name} failed to start:\n${r.errors.join("\n")}`);
      }
    }
    // After the preflight (svc's modules cached); from every contender, so
    // svc-native gives the figure even when it is not among those compared.
    ({ cases: options.cases, saturation } = await resolveFixedRates(
      options.cases,
      everyContender,
      measure,
      options.saturation,
    ));
    for (let rep = 1; rep <= options.repeat; rep++) {
      for (const contender of rotate(contenders, rep - 1)) {
        console.error(`rep ${rep}/${options.repeat}: ${contender.name}`);
        const r = await measureProcess(contender, options.cases, rep, measure);
        runs.push(r);
        progress(r);
      }
    }
  } finally {
    await stopAll();
    await sink?.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  const names = contenders.map((c) => c.name);
  const summary = summarize(names, options.cases, runs);
  const failures = runs.flatMap((r) => r.errors.map((e) => `${r.contender} rep ${r.rep}: ${e}`));
  const versions = { node: nodeVersion, h2load: h2loadVersion, connectNode: connectNode?.version };
  const meta = await describeRun(options, denos, versions, go, contenders, saturation);
  const report = reportOf({ ...meta, runs });
  console.log(report);
  if (failures.length) console.log(`FAILURES\n${failures.join("\n")}`);
  const elapsed = (performance.now() - started) / 1000;
  console.log(`finished in ${elapsed.toFixed(0)} s`);
  saveResults(options, { ...meta, elapsedSeconds: elapsed, summary, runs, failures }, report);
  return failures.length ? 1 : 0;
}

/**
 * The Go ping-pong client when a chosen case uses it; if it cannot be built,
 * those cases are left out, with the reason.
 */
async function goPingpongFor(options: Options): Promise<string | null> {
  const uses = options.cases.filter((c) => c.pingpongClient === "go");
  if (!uses.length) return null;
  const built = await buildGoPingpong();
  if ("binary" in built) return built.binary;
  for (const c of uses) console.error(`${c.name}: skipped: ${built.skip}`);
  options.cases = options.cases.filter((c) => !uses.includes(c));
  return null;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function progress(r: ProcessRun): void {
  const parts = [`  cold start ${r.coldStartMs?.toFixed(0) ?? "—"} ms`];
  for (const [name, s] of Object.entries(r.cases)) {
    const busy = Math.max(...s.settleSeconds);
    parts.push(
      `${name} ${Math.round(s.rate)}/s cpu ${s.cpuUsPerCall.toFixed(1)} µs` +
        (busy > 1 ? ` (busy ${busy} s after the load stopped)` : ""),
    );
  }
  if (r.memory) parts.push(`rss ${r.memory.rss.toFixed(0)} MiB`);
  if (r.syscalls) {
    const { calls, counts } = r.syscalls;
    const perCall = Object.entries(counts).map(([name, n]) => `${name} ${(n / calls).toFixed(3)}`);
    parts.push(`syscalls per call ${perCall.join(" ")}`);
  }
  console.error(parts.join(", "));
  if (r.syscallsError) console.error(`  syscalls not counted: ${r.syscallsError}`);
  for (const e of r.errors) console.error(`  ERROR ${e}`);
}

async function describeRun(
  options: Options,
  denos: DenoBinary[],
  versions: { node: string; h2load: string; connectNode?: string },
  go: { binary: string } | { skip: string },
  contenders: Contender[],
  saturation: Saturation | null = null,
) {
  const cpuModel = (await versionOf(["sh", "-c", "lscpu | grep 'Model name'"]))
    .replace(/Model name:\s*/, "");
  return {
    date: new Date().toISOString(),
    quick: options.quick,
    command: `deno run -A bench/run.ts ${Deno.args.join(" ")}`.trim(),
    machine: {
      nproc: navigator.hardwareConcurrency,
      cpu: cpuModel,
      kernel: await versionOf(["uname", "-r"]),
      pinned: PIN
        ? "server on CPU 1, load generators on CPU 0"
        : options.pin
        ? "one core: not pinned"
        : "not pinned (--no-pin): servers and load generators share every core",
    },
    versions: {
      deno: denos.map((d) => d.version),
      node: versions.node,
      grpcJsDeno: grpcJsVersion(ROOT),
      grpcJsNode: grpcJsVersion(NODE_DIR),
      grpcGo: "binary" in go ? grpcGoVersion() : null,
      connectNode: versions.connectNode ?? null,
      h2load: versions.h2load,
    },
    grpcGo: "skip" in go ? `skipped: ${go.skip}` : "built",
    load: {
      h2load: h2loadLine(options),
      pingpong: options.cases.filter((c) => c.driver === "pingpong")
        .map((c) =>
          `${c.name} ${c.connections} connections × ${c.streams} bidi calls, ${
            c.pingpongClient === "go"
              ? "raw HTTP/2 frames from Go (clients/go_pingpong)"
              : "raw node:http2 client on Node"
          }`
        ).join(", ") || "none",
      repeat: options.repeat,
      /** Seconds of the strace pass per process; 0 when it did not run. */
      syscallSeconds: options.syscalls,
    },
    contenders: contenders.map((c) => ({ name: c.name, runtime: c.runtime })),
    /** The saturation the fixed-rate cases' shares were taken of; null without such cases. */
    saturation,
    tuning: options.tuning,
    baselines: await Promise.all(options.baselines.map(async (b) => ({
      ...b,
      commit: await versionOf(["git", "-C", b.dir, "log", "-1", "--format=%h %s"]),
    }))),
  };
}

type RunMeta = Awaited<ReturnType<typeof describeRun>>;

/** The tables for a run (or a saved results file): header, cases, syscalls, targets. */
/** The h2load part of the header: its flags per case, or "none" when no case uses it. */
function h2loadLine(options: Options): string {
  const cases = options.cases.filter((c) => c.driver === "h2load");
  if (cases.length === 0) return "none";
  const fixedRate = cases.some((c) => c.rate !== undefined || c.rateOfSaturation !== undefined) &&
      options.warmupFixedRate !== options.warmup
    ? ` (fixed-rate cases ${options.warmupFixedRate}s)`
    : "";
  return `-t 1 -D ${options.seconds}s after a ${options.warmup}s warm-up run${fixedRate}; ${
    cases.map((c) =>
      `${c.name}${c.http === "1.1" ? " --h1" : ""} -c ${c.connections} -m ${c.streams}${
        c.rate === undefined ? "" : ` --rps ${c.rate / c.connections}`
      }`
    ).join(", ")
  }`;
}

function reportOf(data: RunMeta & { runs: ProcessRun[] }): string {
  const names = data.contenders.map((c) => c.name);
  const cases = CASES.filter((c) => data.runs.some((r) => c.name in r.cases));
  const summary = summarize(names, cases, data.runs);
  // Results files from before the pass existed have no syscallSeconds.
  const syscalls = renderSyscalls(names, data.runs, data.load.syscallSeconds ?? 0);
  // Quick runs are too short to judge speed: no targets tables.
  const targets = data.quick ? "" : renderTargets(summary);
  return [header(data), render(summary, cases), syscalls, targets].filter(Boolean).join("\n");
}

function header(meta: RunMeta): string {
  const v = meta.versions;
  const tuning = meta.tuning;
  return [
    `**svc benchmark**, ${meta.date}`,
    "",
    `- machine: ${meta.machine.nproc} cores, ${meta.machine.cpu}, Linux ${meta.machine.kernel}; ${meta.machine.pinned}`,
    `- versions: Deno ${
      v.deno.join(", ")
    }; Node ${v.node}; grpc-js ${v.grpcJsDeno} (Deno), ${v.grpcJsNode} (Node); grpc-go ${
      v.grpcGo ?? "—"
    }${v.connectNode ? `; connect-node ${v.connectNode}` : ""}; ${v.h2load}`,
    `- load: h2load ${meta.load.h2load}; ping-pong ${meta.load.pingpong}; ${meta.load.repeat} repetitions, contenders alternating, a fresh process each`,
    `- grpc-go: ${meta.grpcGo}`,
    ...(meta.saturation
      ? [
        `- fixed rates: svc's saturation ${
          Math.round(meta.saturation.rate).toLocaleString("en-US")
        } calls/s (${meta.saturation.source})`,
      ]
      : []),
    ...(tuning
      ? [
        `- "-tuned" contenders: grpc-js options ${
          tuning.grpcOptions ?? "{}"
        }, node:http2 settings ${tuning.http2Settings ?? "{}"}`,
      ]
      : []),
    `- command: \`${meta.command}\``,
    "",
  ].join("\n");
}

function saveResults(options: Options, data: unknown, report: string): void {
  const dir = join(BENCH_DIR, "results");
  Deno.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const kind = options.quick ? "quick" : "full";
  const file = join(dir, `${kind}-${stamp}.json`);
  Deno.writeTextFileSync(file, JSON.stringify(data, null, 2) + "\n");
  console.log(`results: ${file.slice(ROOT.length + 1)}`);
  if (!options.quick && !options.only && options.cases.length === CASES.length) {
    Deno.writeTextFileSync(join(dir, "latest.md"), report + "\n");
    // The repository's own formatter has the last word on Markdown layout.
    new Deno.Command(Deno.execPath(), { args: ["fmt", join(dir, "latest.md")], stderr: "null" })
      .outputSync();
    Deno.writeTextFileSync(join(dir, "latest.json"), JSON.stringify(data, null, 2) + "\n");
  }
}

let interrupted = false;
Deno.addSignalListener("SIGINT", () => {
  if (interrupted) Deno.exit(130);
  interrupted = true;
  console.error("interrupted: stopping every process the bench started");
  stopAll().finally(() => Deno.exit(130));
});

if (import.meta.main) {
  let code = 1;
  try {
    code = await main();
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
  } finally {
    await stopAll();
  }
  process.exitCode = code;
  Deno.exit(code);
}
