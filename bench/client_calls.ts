/**
 * What an outgoing `ctx.clients` call costs the caller: CPU µs per unary
 * call made through `createClients()` against a backend in another process
 * (runtime/client/_testing.ts's grpc-js demo.Backend), with the default
 * policies (breaker, retry throttling, outlier ejection, default timeout).
 * Most of it is grpc-js; the figure to compare is before/after a change to
 * runtime/client/, in one run, with `--compare` alternating the two trees.
 *
 *   deno run -A bench/client_calls.ts                       # this tree
 *   deno run -A bench/client_calls.ts --compare /tmp/old    # alternate with another checkout
 *   options: --calls 20000 --concurrency 16 --repeat 5
 * @module
 */
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    root: { type: "string" },
    compare: { type: "string" },
    calls: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "16" },
    repeat: { type: "string", default: "5" },
    /** The dependency's default timeout in ms (10 s by default; 0 = none). */
    timeout: { type: "string" },
  },
});
const HERE = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

if (values.compare) {
  await compare(HERE, values.compare, Number(values.repeat));
} else {
  const result = await measure(
    values.root ?? HERE,
    Number(values.calls),
    Number(values.concurrency),
  );
  console.log(JSON.stringify(result));
}

/** Runs this script for each tree in turn, `repeat` times, and prints the medians. */
async function compare(a: string, b: string, repeat: number): Promise<void> {
  const results = new Map<string, number[]>([[a, []], [b, []]]);
  for (let i = 0; i < repeat; i++) {
    for (const root of [a, b]) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL(import.meta.url).pathname,
          "--root",
          root,
          "--calls",
          values.calls!,
          "--concurrency",
          values.concurrency!,
          ...(values.timeout === undefined ? [] : ["--timeout", values.timeout]),
        ],
        stderr: "inherit",
      }).output();
      const line = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!;
      const { cpuUsPerCall } = JSON.parse(line);
      results.get(root)!.push(cpuUsPerCall);
      console.log(`${root}: ${cpuUsPerCall.toFixed(2)} µs/call`);
    }
  }
  for (const [root, list] of results) {
    const sorted = [...list].sort((x, y) => x - y);
    console.log(
      `${root}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} µs CPU per call ` +
        `(${list.map((v) => v.toFixed(2)).join(" ")})`,
    );
  }
}

/** `calls` unary calls from `concurrency` loops, after a warm-up; CPU of this process only. */
async function measure(root: string, calls: number, concurrency: number) {
  const { createClients } = await import(`${root}/runtime/client/discovery.ts`);
  const testing = await import(`${root}/runtime/client/_testing.ts`);
  await using backend = await testing.spawnTestBackend("bench");
  const clients = createClients({
    registry: {
      type: "none",
      endpoints: ["http://127.0.0.1:1"],
      prefix: "services",
      ttl: 10_000,
      advertise: "",
      metadata: {},
      auth: null,
      tls: null,
    },
    dependencies: new Map([["demo.Backend", {
      methods: await testing.backendMethods(),
      static: [backend.address],
      ...(values.timeout === undefined ? {} : { timeout: Number(values.timeout) }),
    }]]),
    log: testing.memoryLogger("warn").log,
  });
  try {
    const client = clients.get("demo.Backend");
    const run = async (n: number) => {
      let left = n;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await client.echo({ text: "hello" });
      }));
    };
    await run(Math.min(2_000, calls));
    const before = cpuUsage();
    const started = performance.now();
    await run(calls);
    const elapsedMs = performance.now() - started;
    const used = cpuUsage(before);
    return {
      root,
      calls,
      callsPerSecond: Math.round(calls / (elapsedMs / 1e3)),
      cpuUsPerCall: (used.user + used.system) / calls,
    };
  } finally {
    await clients.close();
  }
}
