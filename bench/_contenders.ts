/**
 * The servers compared: how each is started, and what can be checked on it.
 * @module
 */
import { join } from "node:path";
import type { BenchCase } from "./_cases.ts";
import { BENCH_DIR, type ConnectNode, NODE_DIR, PROTO, ROOT } from "./_setup.ts";
import { otlpSink } from "./_otlp_sink.ts";

/** The Deno release the project pins (deno.lock is only used with it). */
export const PINNED_DENO = "2.8.3";

/** One server under test. */
export interface Contender {
  readonly name: string;
  /** "deno" | "node" | "go", with the runtime's version. */
  readonly runtime: string;
  /** svc contenders expose /metrics, whose counters the bench checks. */
  readonly svc: boolean;
  /**
   * The cases it serves: "grpc" (bench.Echo over gRPC) and/or "web"
   * (helloworld.Greeter over gRPC-Web and Connect); default gRPC only.
   */
  readonly serves?: readonly ("grpc" | "web")[];
  /** bench.Echo methods it does not serve (an older svc's bench.proto): their cases are skipped. */
  readonly lacks?: readonly string[];
  /** The command line serving on `port` (and `adminPort` for svc). */
  command(port: number, adminPort: number): { cmd: string[]; env: Record<string, string> };
}

/** Whether `contender` serves `benchCase` (the others skip it). */
export function servesCase(contender: Contender, benchCase: BenchCase): boolean {
  if (contender.lacks?.includes(benchCase.method)) return false;
  return (contender.serves ?? ["grpc"]).includes(benchCase.protocol === "grpc" ? "grpc" : "web");
}

/** A Deno binary and its version. */
export interface DenoBinary {
  readonly path: string;
  readonly version: string;
}

function denoRun(deno: DenoBinary): string[] {
  // Another release may write another lockfile format or node_modules
  // layout: it leaves deno.lock and node_modules/ alone and resolves npm
  // packages from its global cache, at the versions deno.json pins.
  const apart = deno.version === PINNED_DENO ? [] : ["--no-lock", "--node-modules-dir=none"];
  return [deno.path, "run", "-A", ...apart];
}

function svcContender(
  name: string,
  config: string,
  deno: DenoBinary,
  transport: "grpc-js" | "native" = "grpc-js",
  checkout: string | null = null,
  extraEnv: Record<string, string> | (() => Record<string, string>) = {},
  serves: readonly ("grpc" | "web")[] = ["grpc"],
  v8Flags: string | null = null,
): Contender {
  // Another checkout of svc (a baseline) runs with its own deno.json and bench configs.
  const main = checkout ? [`--config=${join(checkout, "deno.json")}`, join(checkout, "main.ts")] : [
    "main.ts",
  ];
  // As `deno task svc` starts that checkout: with its V8 flags, unless a variant names others.
  const flags = v8Flags ?? taskV8Flags(checkout ?? ROOT);
  const v8 = flags ? [`--v8-flags=${flags}`] : [];
  const benchDir = checkout ? join(checkout, "bench") : BENCH_DIR;
  return {
    name,
    runtime: `deno ${deno.version}`,
    svc: true,
    serves,
    lacks: checkout ? missingMethods(benchDir) : [],
    command: (port, adminPort) => ({
      cmd: [...denoRun(deno), ...v8, ...main, "run", join(benchDir, "svc", config, "svc.yaml")],
      env: {
        SVC_SERVER_PORT: String(port),
        SVC_ADMIN_PORT: String(adminPort),
        SVC_SERVER_TRANSPORT: transport,
        ...(typeof extraEnv === "function" ? extraEnv() : extraEnv),
      },
    }),
  };
}

/** The V8 flags a checkout's `deno task svc` passes (deno.json), or null. */
export function taskV8Flags(checkout: string): string | null {
  const { tasks } = JSON.parse(Deno.readTextFileSync(join(checkout, "deno.json")));
  return /--v8-flags=(\S+)/.exec(tasks?.svc ?? "")?.[1] ?? null;
}

/**
 * The bench.Echo methods this checkout's bench.Echo has that `benchDir`'s
 * (an older checkout, a baseline) does not declare.
 */
function missingMethods(benchDir: string): string[] {
  const declared = (text: string) => new Set([...text.matchAll(/\brpc\s+(\w+)/g)].map((m) => m[1]));
  const theirs = declared(Deno.readTextFileSync(join(benchDir, "proto", "bench.proto")));
  return [...declared(Deno.readTextFileSync(PROTO))].filter((m) => !theirs.has(m));
}

/**
 * Extra server settings for "-tuned" copies of the bare grpc-js contenders
 * (the transport investigation): grpc-js options and node:http2 settings,
 * as JSON (see servers/grpcjs_server.mjs).
 */
export interface Tuning {
  readonly grpcOptions?: string;
  readonly http2Settings?: string;
}

/**
 * Another checkout of svc measured beside this one (a change's "before"):
 * its svc-native and svc-native-builtins are named `@name`.
 */
export interface Baseline {
  readonly dir: string;
  readonly name: string;
}

/** svc-native run with other V8 flags (in place of deno.json's): svc-native-v8-`name`. */
export interface V8Variant {
  readonly name: string;
  readonly flags: string;
}

/**
 * Every contender: per Deno binary svc-native and svc-native-builtins (the
 * default and all-built-ins configs on the default, native transport), and
 * for the first svc-native-overload (the default config with `overload` on),
 * svc-grpcjs and svc-grpcjs-builtins (the same on grpc-js) and
 * grpcjs-deno (named `@version` after the first binary), then grpcjs-node
 * and, when it built, grpc-go. With `tuning`, grpcjs-deno-tuned and
 * grpcjs-node-tuned follow their untuned twins. svc-native-web (the web
 * protocols on) follows the first svc-native-overload; connect-node, the
 * web cases' baseline on Node, follows grpcjs-node when `connectNode` is set up.
 */
export function createContenders(
  denos: readonly DenoBinary[],
  node: { path: string; version: string },
  goBinary: string | null,
  tuning: Tuning | null = null,
  baselines: readonly Baseline[] = [],
  connectNode: ConnectNode | null = null,
  v8Variants: readonly V8Variant[] = [],
): Contender[] {
  const tunedEnv: Record<string, string> = {};
  if (tuning?.grpcOptions) tunedEnv.BENCH_GRPC_OPTIONS = tuning.grpcOptions;
  if (tuning?.http2Settings) tunedEnv.BENCH_HTTP2_SETTINGS = tuning.http2Settings;
  const bare = (name: string, runtime: string, cmd: string[]): Contender[] => {
    const plain: Contender = { name, runtime, svc: false, command: () => ({ cmd, env: {} }) };
    if (!tuning) return [plain];
    return [plain, { ...plain, name: `${name}-tuned`, command: () => ({ cmd, env: tunedEnv }) }];
  };
  const out: Contender[] = [];
  // The port is the command's argument; bind it late.
  const withPort = (c: Contender): Contender => ({
    ...c,
    command: (port, adminPort) => {
      const { cmd, env } = c.command(port, adminPort);
      return { cmd: cmd.map((a) => a === "$PORT" ? String(port) : a), env };
    },
  });
  denos.forEach((deno, i) => {
    const suffix = i === 0 ? "" : `@${deno.version}`;
    // svc-native is svc's default config; the -grpcjs pair is the fallback transport.
    out.push(svcContender(`svc-native${suffix}`, "default", deno, "native"));
    out.push(svcContender(`svc-native-builtins${suffix}`, "builtins", deno, "native"));
    if (i === 0) {
      // The default config with the overload limiter on: its cost when not overloaded.
      out.push(
        svcContender("svc-native-overload", "default", deno, "native", null, {
          SVC_OVERLOAD_ENABLED: "true",
        }),
      );
      // The default config with server.web on and helloworld.Greeter beside
      // bench.Echo: the web cases, and what the switch costs the gRPC ones.
      out.push(
        svcContender("svc-native-web", "web", deno, "native", null, {}, ["grpc", "web"]),
      );
      // The default config tracing every call, and one in a hundred, exporting
      // to a sink in a process of its own (run.ts and profile.ts start it).
      const tracing = (suffix: string, dir: string | null) =>
        ["1", "0.01"].map((ratio) =>
          svcContender(
            `svc-native-tracing-${ratio}${suffix}`,
            "default",
            deno,
            "native",
            dir,
            () => ({
              SVC_TRACING_ENABLED: "true",
              OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
              OTEL_TRACES_SAMPLER_ARG: ratio,
              OTEL_EXPORTER_OTLP_ENDPOINT: otlpSink.url,
            }),
          )
        );
      out.push(...tracing("", null));
      for (const v of v8Variants) {
        out.push(
          // On the command line, in place of the task's: those win over DENO_V8_FLAGS.
          svcContender(
            `svc-native-v8-${v.name}`,
            "default",
            deno,
            "native",
            null,
            {},
            ["grpc"],
            v.flags.split(/\s+/).join(","),
          ),
        );
      }
      for (const base of baselines) {
        out.push(svcContender(`svc-native@${base.name}`, "default", deno, "native", base.dir));
        out.push(
          svcContender(`svc-native-builtins@${base.name}`, "builtins", deno, "native", base.dir),
        );
        out.push(...tracing(`@${base.name}`, base.dir));
      }
    }
    out.push(svcContender(`svc-grpcjs${suffix}`, "default", deno, "grpc-js"));
    out.push(svcContender(`svc-grpcjs-builtins${suffix}`, "builtins", deno, "grpc-js"));
    const script = join(BENCH_DIR, "servers", "grpcjs_server.mjs");
    out.push(
      ...bare(`grpcjs-deno${suffix}`, `deno ${deno.version}`, [
        ...denoRun(deno),
        script,
        "$PORT",
        PROTO,
      ]).map(withPort),
    );
  });
  out.push(
    ...bare("grpcjs-node", `node ${node.version}`, [
      node.path,
      join(NODE_DIR, "grpcjs_server.mjs"),
      "$PORT",
      PROTO,
    ]).map(withPort),
  );
  if (connectNode) {
    // Serves bench.Echo/Say too, for the cold-start probe; measured on the web cases only.
    out.push(withPort({
      name: "connect-node",
      runtime: `node ${node.version}`,
      svc: false,
      serves: ["web"],
      command: () => ({
        cmd: [node.path, connectNode.script, "$PORT", connectNode.descriptors],
        env: {},
      }),
    }));
  }
  if (goBinary) {
    out.push(withPort({
      name: "grpc-go",
      runtime: "go",
      svc: false,
      command: () => ({ cmd: [goBinary, "$PORT"], env: {} }),
    }));
  }
  return out;
}
