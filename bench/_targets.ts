/**
 * The issues' speed targets, judged on one run's ratios of medians.
 * Informative only: the bench never fails on speed.
 * @module
 */
import { type Baseline, ratio, type Summary } from "./_report.ts";
import { table } from "./_stats.ts";

/** One target: a contender's ratio of medians against a baseline. */
export interface Target {
  readonly what: string;
  readonly table: "case" | "coldStart" | "memory";
  readonly caseName?: string;
  readonly contender: string;
  readonly base: Baseline;
  readonly atLeast?: number;
  readonly atMost?: number;
}

/** One issue's targets and the caption of their table. */
interface TargetSet {
  readonly title: string;
  /** Issue 6's targets all share grpcjs-deno (named in the title); issue 7's do not. */
  readonly baseInGoal: boolean;
  readonly targets: readonly Target[];
}

const unary = (contender: string, base: Baseline, atLeast: number): Target => ({
  what: `${contender}, unary-small`,
  table: "case",
  caseName: "unary-small",
  contender,
  base,
  atLeast,
});
const stream = (contender: string, base: Baseline, atLeast: number): Target => ({
  what: `${contender}, stream-1000`,
  table: "case",
  caseName: "stream-1000",
  contender,
  base,
  atLeast,
});

/** Every issue's targets, one table each. */
export const TARGET_SETS: readonly TargetSet[] = [
  {
    // svc's default config is svc-native. The svc-grpcjs rows are the
    // stricter reading: what svc's pipeline adds on the very same transport.
    title: "**targets** (issue 6; ratio of medians vs grpcjs-deno, this run)",
    baseInGoal: false,
    targets: [
      unary("svc-native", "grpcjs-deno", 0.95),
      stream("svc-native", "grpcjs-deno", 0.95),
      unary("svc-native-builtins", "grpcjs-deno", 0.85),
      stream("svc-native-builtins", "grpcjs-deno", 0.85),
      unary("svc-grpcjs", "grpcjs-deno", 0.95),
      stream("svc-grpcjs", "grpcjs-deno", 0.95),
      unary("svc-grpcjs-builtins", "grpcjs-deno", 0.85),
      stream("svc-grpcjs-builtins", "grpcjs-deno", 0.85),
      {
        what: "svc-native, cold start",
        table: "coldStart",
        contender: "svc-native",
        base: "grpcjs-deno",
        atMost: 1.5,
      },
      {
        what: "svc-native, RSS after load",
        table: "memory",
        contender: "svc-native",
        base: "grpcjs-deno",
        atMost: 1.2,
      },
    ],
  },
  {
    // The native transport (issue 7): every built-in on and still 3× grpc-js
    // on Node and level with grpc-go; streaming at least on par with Node.
    title: "**targets** (issue 7; ratio of medians, this run)",
    baseInGoal: true,
    targets: [
      unary("svc-native-builtins", "grpcjs-node", 3),
      unary("svc-native-builtins", "grpc-go", 1),
      stream("svc-native", "grpcjs-node", 1),
    ],
  },
];

/**
 * The targets this run can judge, one Markdown table per issue. A target
 * whose contender or baseline did not run (grpc-go when it does not build)
 * is left out, and an issue with none left prints nothing.
 */
export function renderTargets(summary: Summary, sets: readonly TargetSet[] = TARGET_SETS): string {
  const out: string[] = [];
  for (const set of sets) {
    const body: string[][] = [];
    for (const t of set.targets) {
      const rows = t.table === "case" ? summary.cases[t.caseName!] : summary[t.table];
      const r = rows?.find((row) => row.contender === t.contender)?.ratios[t.base];
      if (r === undefined || r === null) continue;
      const met = t.atLeast !== undefined ? r >= t.atLeast : r <= t.atMost!;
      const goal =
        (t.atLeast !== undefined ? `≥ ${t.atLeast.toFixed(2)}×` : `≤ ${t.atMost!.toFixed(2)}×`) +
        (set.baseInGoal ? ` ${t.base}` : "");
      body.push([t.what, goal, ratio(r), met ? "met" : "not met"]);
    }
    if (body.length) {
      out.push(`${set.title}\n\n${table(["target", "goal", "measured", ""], body)}\n`);
    }
  }
  return out.join("\n");
}
