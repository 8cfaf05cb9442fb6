/**
 * bench/run.ts's command line: the options, their defaults (full and
 * `--quick`) and the usage text. Kept apart from run.ts, which runs them.
 * @module
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type BenchCase, CASES } from "./_cases.ts";
import type { Baseline, Tuning, V8Variant } from "./_contenders.ts";
import { SYSCALL_CASE } from "./_measure.ts";

const USAGE = `Usage: deno run -A bench/run.ts [options]

  --quick            every contender and case once, short runs: checks the harness works
  --deno PATH[,...]  Deno binary for the Deno contenders (default: this one); several
                     binaries run side by side, later ones named contender@version
  --node PATH        Node binary (default: node)
  --cases a,b        load cases: ${CASES.map((c) => c.name).join(", ")}
  --contenders a,b   only these contenders (default: all)
  --repeat N         repetitions, contenders alternating (default 3; --quick 1)
  --duration S       measured seconds per case (default 10; --quick 1)
  --warmup S         warm-up seconds per case (default 3, fixed-rate cases 10; --quick 0.25);
                     given, it is every case's
  --syscalls S       seconds of the strace pass counting syscalls per response on
                     ${SYSCALL_CASE}, after each process's cases (default 2; --quick 0: off)
  --tune-grpc-options JSON    add grpcjs-deno-tuned and grpcjs-node-tuned, given these
  --tune-http2-settings JSON  grpc-js server options and/or node:http2 settings
  --baseline DIR[=NAME]  also run svc-native and svc-native-builtins from another
                     checkout of svc (e.g. a git worktree of main), named @NAME
                     (default @base): a change's before and after in one run
  --saturation N     svc's saturation in calls/s for the fixed-rate cases given as a
                     share of it (default: measured once on svc-native's unary-small)
  --v8-flags NAME=FLAGS  also run svc-native with these V8 flags instead of those deno.json's
                     svc task passes, named svc-native-v8-NAME (NAME= alone: V8's defaults)
  --no-pin           no taskset: servers and load share both cores (grpc-go and
                     Deno's helper threads use them as they like)
  --report FILE      print the tables of a saved results JSON again, and nothing else`;

/** What one bench run does. */
export interface Options {
  /** `--report FILE`: render a saved results JSON and run nothing. */
  report: string | null;
  quick: boolean;
  denos: string[];
  node: string;
  cases: BenchCase[];
  only: string[] | null;
  repeat: number;
  seconds: number;
  warmup: number;
  /**
   * The fixed-rate cases' warm-up: longer by default, since at 5,000 calls/s
   * a JIT runtime sees in 3 s a fortieth of the calls it sees saturated, and
   * its optimizing compiler was still at work 3-6 s in (bench/README.md,
   * session 18). What a fresh process's first seconds cost is cold start's
   * part, measured on its own.
   */
  warmupFixedRate: number;
  syscalls: number;
  tuning: Tuning | null;
  baselines: Baseline[];
  v8Variants: V8Variant[];
  saturation: number | null;
  pin: boolean;
}

function json(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  JSON.parse(text); // fails early on a typo
  return text;
}

/** Parses bench/run.ts's arguments; prints the usage and exits on --help. */
export function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean" },
      deno: { type: "string", multiple: true },
      node: { type: "string" },
      cases: { type: "string" },
      contenders: { type: "string" },
      repeat: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      syscalls: { type: "string" },
      "tune-grpc-options": { type: "string" },
      "tune-http2-settings": { type: "string" },
      report: { type: "string" },
      baseline: { type: "string", multiple: true },
      "v8-flags": { type: "string", multiple: true },
      saturation: { type: "string" },
      "no-pin": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const quick = values.quick ?? false;
  const list = (s: string | undefined) =>
    s ? s.split(",").map((x) => x.trim()).filter(Boolean) : null;
  const number = (s: string | undefined, fallback: number, name: string, zero = false) => {
    const n = s === undefined ? fallback : Number(s);
    if (!(n > 0 || (zero && n === 0))) {
      throw new Error(`--${name} must be a positive number, got "${s}"`);
    }
    return n;
  };
  const caseNames = list(values.cases);
  const unknown = caseNames?.filter((n) => !CASES.some((c) => c.name === n)) ?? [];
  if (unknown.length) throw new Error(`unknown case ${unknown.join(", ")}\n\n${USAGE}`);
  return {
    report: values.report ?? null,
    quick,
    denos: values.deno?.flatMap((d) => list(d) ?? []) ?? [Deno.execPath()],
    node: values.node ?? "node",
    cases: caseNames ? CASES.filter((c) => caseNames.includes(c.name)) : [...CASES],
    only: list(values.contenders),
    repeat: Math.round(number(values.repeat, quick ? 1 : 3, "repeat")),
    seconds: number(values.duration, quick ? 1 : 10, "duration"),
    warmup: number(values.warmup, quick ? 0.25 : 3, "warmup"),
    warmupFixedRate: number(values.warmup, quick ? 0.25 : 10, "warmup"),
    // Off in --quick: it runs in CI, on a time budget, maybe where ptrace is not allowed.
    syscalls: number(values.syscalls, quick ? 0 : 2, "syscalls", true),
    tuning: values["tune-grpc-options"] || values["tune-http2-settings"]
      ? {
        grpcOptions: json(values["tune-grpc-options"]),
        http2Settings: json(values["tune-http2-settings"]),
      }
      : null,
    baselines: (values.baseline ?? []).map((spec) => {
      const [dir, name = "base"] = spec.split("=");
      const main = join(dir, "main.ts");
      try {
        Deno.statSync(main);
      } catch {
        throw new Error(`--baseline ${dir}: no ${main}`);
      }
      return { dir: resolve(dir), name };
    }),
    v8Variants: (values["v8-flags"] ?? []).map((spec) => {
      const at = spec.indexOf("=");
      if (at <= 0) throw new Error(`--v8-flags ${spec}: expected NAME=FLAGS`);
      return { name: spec.slice(0, at), flags: spec.slice(at + 1) };
    }),
    saturation: values.saturation === undefined ? null : number(values.saturation, 0, "saturation"),
    pin: !values["no-pin"],
  };
}
