/**
 * The native HTTP/2 transport under attack: rapid reset, CONTINUATION and
 * control-frame floods, an HPACK header bomb, stalled prefaces, clients that
 * never read, many idle connections. tests/python/h2_abuse.py runs each
 * attack on raw frames against a real `svc run` (tests/fixtures/native_h2/:
 * resetBurst 50, controlFrameBurst 100, prefaceTimeout 1s, maxOutputBytes
 * 1 MiB) and reports what the server did. Each step asserts the attacking
 * connection is stopped as stated, another connection is served during the
 * attack and after it, the process still runs, and its RSS stays bounded.
 *
 * SVC_H2_TEST_TRANSPORT=grpc-js runs the same attacks against the grpc-js
 * transport (for comparison; many expectations differ there).
 */
import assert from "node:assert/strict";
import { grpcClient, ROOT, startSvc, type SvcProcess, unary } from "./_harness.ts";
import { runProbe } from "./_h2_probe.ts";
import { PYTHON, pythonGrpcMissing } from "./_python.ts";

const FIXTURES = `${ROOT}/tests/fixtures/native_h2`;
const TRANSPORT = Deno.env.get("SVC_H2_TEST_TRANSPORT") ?? "native";
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);
const missing = await pythonGrpcMissing();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// RFC 9113 §7 error codes.
const PROTOCOL_ERROR = 0x1;
const COMPRESSION_ERROR = 0x9;
const ENHANCE_YOUR_CALM = 0xb;
/** Peak RSS growth any single attack may cause. */
const RSS_BOUND_KIB = 100 * 1024;

interface Goaway {
  code: number;
  last_stream_id: number;
  debug?: string;
}
interface CallSeen {
  status: string | null;
  grpc_status: string | null;
  rst: number | null;
}
interface Seen {
  goaway: Goaway | null;
  rst: Record<string, number>;
  closed: boolean;
  closed_ms: number | null;
  errors: string[];
  [key: string]: unknown;
}

/** Runs tests/python/h2_abuse.py CASE PORT ARGS; see runProbe. */
function attack(
  port: number,
  args: string[],
  options: { timeoutMs?: number; onReady?: () => Promise<void> } = {},
): Promise<Seen> {
  return runProbe<Seen>("h2_abuse.py", port, args, {
    timeoutMs: options.timeoutMs ?? 20_000,
    onReady: options.onReady,
  });
}

function show(seen: unknown): string {
  return JSON.stringify(seen);
}

function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

/** Samples a process's RSS every 50 ms; `stop()` returns the peak growth in KiB. */
function watchRss(pid: number): { stop(): number } {
  const base = rssKiB(pid);
  let peak = base;
  const id = setInterval(() => {
    try {
      peak = Math.max(peak, rssKiB(pid));
    } catch {
      // Exited; the health check reports that.
    }
  }, 50);
  return {
    stop() {
      clearInterval(id);
      return peak - base;
    },
  };
}

/** A normal call on a new connection succeeds within 5 s. */
async function assertServes(port: number, when: string): Promise<void> {
  const client = factory.makeClient("e2e.Test", port);
  try {
    const reply = await unary<{ message: string }>(client, "echo", { message: when }, {
      timeoutMs: 5000,
    });
    assert.equal(reply.message, when);
  } catch (error) {
    throw new Error(`no normal call ${when}: ${(error as Error).message}`);
  } finally {
    client.close();
  }
}

/** One svc process shared by steps; restarted if a step killed it. */
class Server implements AsyncDisposable {
  #svc: SvcProcess | null = null;
  #exited = false;
  constructor(readonly config: string) {}

  get svc(): SvcProcess {
    return this.#svc!;
  }

  async ensure(): Promise<SvcProcess> {
    if (this.#svc && !this.#exited) return this.#svc;
    await this.#svc?.stop();
    this.#exited = false;
    this.#svc = await startSvc({ config: this.config, env: { SVC_SERVER_TRANSPORT: TRANSPORT } });
    this.#svc.exited.then(() => this.#exited = true);
    const serving = this.#svc.logs().find((l) => l.msg === "serving");
    assert.equal(serving?.transport, TRANSPORT, "the fixture runs the transport under test");
    return this.#svc;
  }

  /**
   * Runs `attack` while checking that a new connection is served during it
   * (after `duringMs`) and after it, that the process is still running, and
   * that RSS grew by less than `rssBoundKiB` at its peak.
   */
  async underAttack<T>(run: () => Promise<T>, duringMs = 300, rssBoundKiB = RSS_BOUND_KIB) {
    const { port, pid } = this.svc;
    const rss = watchRss(pid);
    try {
      const result = run();
      const during = sleep(duringMs).then(() => assertServes(port, "during the attack"));
      const [seen] = await Promise.all([result, during]);
      await assertServes(port, "after the attack");
      assert.ok(!this.#exited, `svc exited; stderr:\n${this.svc.stderr().slice(-2000)}`);
      return seen;
    } finally {
      const grown = rss.stop();
      assert.ok(grown < rssBoundKiB, `RSS grew ${grown} KiB during the attack`);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#svc?.stop();
  }
}

function assertGoaway(seen: Seen, codes: number[]): void {
  assert.ok(
    seen.goaway !== null && codes.includes(seen.goaway.code),
    `GOAWAY with one of ${codes}: ${show(seen)}`,
  );
  assert.ok(seen.closed, `the attacking connection is closed: ${show(seen)}`);
}

Deno.test({
  name: "native HTTP/2 abuse: each attack is cut off and svc keeps serving in bounded memory",
  ignore: missing !== null,
  async fn(t) {
    await using server = new Server(`${FIXTURES}/svc.yaml`);
    const step = async (name: string, fn: (port: number) => Promise<void>) => {
      const svc = await server.ensure();
      await t.step(name, () => fn(svc.port));
    };

    await step(
      "A. rapid reset: 5000 HEADERS+RST_STREAM get GOAWAY ENHANCE_YOUR_CALM",
      async (port) => {
        const seen = await server.underAttack(() => attack(port, ["rapid_reset", "5000"]));
        assertGoaway(seen, [ENHANCE_YOUR_CALM]);
        // resetBurst is 50: the server must stop long before the 5000th stream.
        assert.ok(seen.goaway!.last_stream_id <= 2001, `stopped early: ${show(seen)}`);
      },
    );

    await step("B1. CONTINUATION flood of valid HPACK (up to 100 MB) is cut off", async (port) => {
      const seen = await server.underAttack(() =>
        attack(port, ["continuation_flood", String(100_000_000)])
      );
      assertGoaway(seen, [ENHANCE_YOUR_CALM, PROTOCOL_ERROR, COMPRESSION_ERROR]);
      const sent = seen.bytes_sent as number;
      assert.ok(sent < 16 * 1024 * 1024, `cut off after ${sent} bytes: ${show(seen)}`);
    });

    await step("B2. 100,000 empty CONTINUATION frames get GOAWAY", async (port) => {
      const seen = await server.underAttack(() =>
        attack(port, ["empty_continuation_flood", "100000"])
      );
      assertGoaway(seen, [ENHANCE_YOUR_CALM, PROTOCOL_ERROR, COMPRESSION_ERROR]);
    });

    for (const kind of ["ping", "settings", "empty_data"]) {
      await step(
        `C. ${kind} flood (100,000 frames) gets GOAWAY ENHANCE_YOUR_CALM`,
        async (port) => {
          const seen = await server.underAttack(() => attack(port, [`${kind}_flood`, "100000"]));
          assertGoaway(seen, [ENHANCE_YOUR_CALM]);
        },
      );
    }

    await step(
      "C2. SETTINGS frames of 2,730 entries (300 of them) get GOAWAY ENHANCE_YOUR_CALM at the first",
      async (port) => {
        const started = performance.now();
        const seen = await server.underAttack(() => attack(port, ["big_settings", "300", "2730"]));
        assertGoaway(seen, [ENHANCE_YOUR_CALM]);
        assert.match(seen.goaway!.debug ?? "", /too many settings \(2730\)/);
        // Only the handshake's SETTINGS was acknowledged: the first big one ended the connection.
        assert.ok(Number(seen.settings_acked) <= 1, `cut off at the first: ${show(seen)}`);
        assert.ok(performance.now() - started < 5_000, `${show(seen)}`);
      },
    );

    await step(
      "H. handlers still running after their streams were reset count against maxConcurrentStreams",
      async (port) => {
        // maxConcurrentStreams is 5: five reset calls whose handlers sleep 1.5 s ignoring ctx.signal.
        const seen = await attack(port, ["reset_running", "5", "1500"]) as Seen & {
          during: CallSeen[];
          after: CallSeen;
        };
        for (const call of seen.during) {
          assert.equal(call.rst, 7, `REFUSED_STREAM while the handlers run: ${show(seen)}`);
        }
        assert.equal(seen.after.grpc_status, "0", `served once they returned: ${show(seen)}`);
      },
    );

    await step("D. HPACK header bomb: blocks decoding to 60 MB each are refused", async (port) => {
      const seen = await server.underAttack(() => attack(port, ["header_bomb", "10", "16000"]));
      if (seen.skipped) throw new Error(`no bomb: ${seen.skipped}`);
      const calls = seen.bomb_calls as Record<string, CallSeen>;
      for (const [stream, call] of Object.entries(calls)) {
        const refused = call.grpc_status === "8" || call.rst !== null || seen.goaway !== null;
        assert.ok(
          refused,
          `stream ${stream} got grpc-status 8, RST_STREAM or GOAWAY: ${show(seen)}`,
        );
      }
      if (seen.goaway) assertGoaway(seen, [ENHANCE_YOUR_CALM, PROTOCOL_ERROR, COMPRESSION_ERROR]);
    });

    for (const kind of ["none", "half"]) {
      await step(
        `E. slow preface (${kind} sent): closed within prefaceTimeout + 1 s`,
        async (port) => {
          const seen = await server.underAttack(() => attack(port, ["slow_preface", kind]), 500);
          assert.ok(seen.closed, `closed: ${show(seen)}`);
          // prefaceTimeout is 1 s: not at once (a slow client gets its time), not much later.
          const ms = seen.closed_ms!;
          assert.ok(ms >= 900 && ms <= 2000, `closed after ${ms} ms: ${show(seen)}`);
        },
      );
    }

    await step(
      "F1. a server stream to a client that never reads waits instead of buffering",
      async (port) => {
        // As tests/backpressure_test.ts: e2e.CountRequest { count: 300000, size: 100 }.
        const svc = server.svc;
        await server.underAttack(
          async () => {
            const client = new Deno.Command(PYTHON, {
              args: [
                `${ROOT}/tests/python/stalled_reader.py`,
                String(port),
                "/e2e.Test/Count",
                "08e0a7121064",
                "4",
              ],
              stdout: "null",
              stderr: "piped",
            }).spawn();
            await sleep(3000);
            const finished = svc.logs().some((l) =>
              l.msg === "call" && l.method === "/e2e.Test/Count"
            );
            const output = await client.output();
            assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
            assert.equal(finished, false, "the handler is still waiting to send after 3 s");
          },
          1000,
          40 * 1024,
        );
        // The client went away; the stream ends.
        await svc.waitForLog((l) => l.msg === "call" && l.method === "/e2e.Test/Count");
      },
    );

    await step("G. 200 idle connections: others are still served", async (port) => {
      const seen = await server.underAttack(() =>
        attack(port, ["many_connections", "200", "2"], {
          onReady: () => assertServes(port, "with 200 idle connections open"),
        })
      );
      assert.equal(seen.handshaken, 200, show(seen));
    });
  },
});

Deno.test({
  name:
    "native HTTP/2 abuse: G. messages never finished, on 100 streams, hold at most connectionWindowBytes",
  ignore: missing !== null,
  async fn() {
    // connectionWindowBytes 1 MiB, initialWindowBytes 64 KiB, maxReceiveMessageBytes 1 MiB - 5.
    await using server = new Server(`${FIXTURES}/svc_many_streams.yaml`);
    await server.ensure();
    const window = 1024 * 1024;
    const seen = await server.underAttack(
      () =>
        runProbe<{ sent: number; capped: boolean; statuses: Record<string, number> }>(
          "partial_messages.py",
          server.svc.port,
          ["partial", "100", String(256 * 1024 - 1), String(64 * 1024 * 1024)],
          { timeoutMs: 40_000 },
        ),
      500,
      // What it may hold, plus the process's own noise.
      window / 1024 + 48 * 1024,
    );
    // Four 256 KiB messages fit the 1 MiB the connection may hold; the other streams' messages
    // are refused at their first frame, RESOURCE_EXHAUSTED, and their data discarded.
    assert.ok(!seen.capped, `stopped before 64 MiB: ${show(seen)}`);
    assert.ok((seen.statuses["8"] ?? 0) >= 90, `refused RESOURCE_EXHAUSTED: ${show(seen)}`);
  },
});

Deno.test({
  name: "native HTTP/2 abuse: F2. 20,000 unread unary calls on one connection stay bounded",
  ignore: missing !== null,
  async fn() {
    await using server = new Server(`${FIXTURES}/svc_many_streams.yaml`);
    const { port } = await server.ensure();
    const seen = await server.underAttack(
      () =>
        attack(port, ["unary_flood", "20000", "3"], {
          onReady: () => assertServes(port, "while a client does not read 20,000 replies"),
        }),
      1500,
    );
    assert.ok((seen.calls_sent as number) > 0, show(seen));
  },
});
