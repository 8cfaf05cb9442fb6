/**
 * Frame-level HTTP/2 conformance of the native transport (RFC 9113, gRPC over
 * HTTP/2). tests/python/h2_probe.py speaks raw frames to a real `svc run`
 * (config tests/fixtures/native_h2/svc.yaml: maxConcurrentStreams 5, tight
 * server.http2 limits) and reports what the server answered as JSON; each
 * step asserts the exact frames and error codes the RFC requires, then that
 * the process still serves a normal grpc-js call on a new connection.
 *
 * SVC_H2_TEST_TRANSPORT=grpc-js runs the same probes against the grpc-js
 * transport (for comparison; many expectations differ there).
 */
import assert from "node:assert/strict";
import { grpcClient, ROOT, startSvc, type SvcProcess, unary } from "./_harness.ts";
import { runProbe } from "./_h2_probe.ts";
import { pythonGrpcMissing } from "./_python.ts";

const CONFIG = `${ROOT}/tests/fixtures/native_h2/svc.yaml`;
const TRANSPORT = Deno.env.get("SVC_H2_TEST_TRANSPORT") ?? "native";
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);
const missing = await pythonGrpcMissing();

// RFC 9113 §7 error codes.
const NO_ERROR = 0x0;
const PROTOCOL_ERROR = 0x1;
const FLOW_CONTROL_ERROR = 0x3;
const STREAM_CLOSED = 0x5;
const FRAME_SIZE_ERROR = 0x6;
const REFUSED_STREAM = 0x7;

// --- what the probe reports ---------------------------------------------------

interface Goaway {
  code: number;
  last_stream_id: number;
  debug: string;
}
type Fields = [string, string][];
interface StreamSeen {
  headers: Fields | null;
  trailers: Fields | null;
  trailers_only: boolean;
  data_bytes: number;
  messages: number;
  end_stream: boolean;
}
interface CallSeen {
  stream: number;
  status: string | null;
  grpc_status: string | null;
  rst: number | null;
}
interface Seen {
  first_frame: string | null;
  server_settings: Record<string, number> | null;
  settings_acked: number;
  goaway: Goaway | null;
  goaways: Goaway[];
  rst: Record<string, number>;
  streams: Record<string, StreamSeen>;
  pings_acked: number;
  ping_payloads: string[];
  closed: boolean;
  closed_ms: number | null;
  errors: string[];
  call?: CallSeen;
  [key: string]: unknown;
}

/** Runs tests/python/h2_probe.py CASE PORT ARGS; see runProbe. */
function probe(
  port: number,
  args: string[],
  options: { timeoutMs?: number; onReady?: () => Promise<void> } = {},
): Promise<Seen> {
  return runProbe<Seen>("h2_probe.py", port, args, {
    timeoutMs: options.timeoutMs ?? 15_000,
    onReady: options.onReady,
  });
}

/** The probe's report, for failure messages (without the bulky header lists). */
function show(seen: Seen): string {
  return JSON.stringify(seen, (k, v) => k === "headers" || k === "trailers" ? undefined : v);
}

function header(fields: Fields | null | undefined, name: string): string | undefined {
  return fields?.find(([n]) => n === name)?.[1];
}

/** RFC 9113 §5.4.1: GOAWAY with `code`, then the TCP connection is closed. */
function assertConnectionError(seen: Seen, code: number): void {
  assert.equal(seen.goaway?.code, code, `GOAWAY code: ${show(seen)}`);
  assert.ok(seen.closed, `the connection is closed after the GOAWAY: ${show(seen)}`);
}

/** RFC 9113 §5.4.2: RST_STREAM with `code` on `stream`, and no GOAWAY. */
function assertStreamError(seen: Seen, stream: number, code: number): void {
  assert.equal(seen.rst[stream], code, `RST_STREAM on stream ${stream}: ${show(seen)}`);
  assert.equal(seen.goaway, null, `no GOAWAY for a stream error: ${show(seen)}`);
}

/** A later call on the same connection succeeded. */
function assertCallOk(seen: Seen): void {
  const call = seen.call;
  assert.deepEqual(
    { status: call?.status, grpcStatus: call?.grpc_status, rst: call?.rst },
    { status: "200", grpcStatus: "0", rst: null },
    `a valid call on the same connection afterwards: ${show(seen)}`,
  );
}

// --- the server ---------------------------------------------------------------

/** One svc process shared by the steps; restarted if a step killed it. */
class Server implements AsyncDisposable {
  #svc: SvcProcess | null = null;
  #exited = false;

  get svc(): SvcProcess {
    return this.#svc!;
  }

  async ensure(): Promise<SvcProcess> {
    if (this.#svc && !this.#exited) return this.#svc;
    await this.#svc?.stop();
    this.#exited = false;
    this.#svc = await startSvc({ config: CONFIG, env: { SVC_SERVER_TRANSPORT: TRANSPORT } });
    this.#svc.exited.then(() => this.#exited = true);
    return this.#svc;
  }

  /** The process runs and serves a normal call on a new connection. */
  async assertHealthy(): Promise<void> {
    const svc = this.svc;
    assert.ok(!this.#exited, `svc exited; stderr:\n${svc.stderr().slice(-2000)}`);
    const client = factory.makeClient("e2e.Test", svc.port);
    try {
      const reply = await unary<{ message: string }>(client, "echo", { message: "alive" }, {
        timeoutMs: 5000,
      });
      assert.equal(reply.message, "alive");
    } finally {
      client.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#svc?.stop();
  }
}

/** A conformance case: probe arguments and what to assert on the report. */
interface Case {
  name: string;
  args: string[];
  check: (seen: Seen) => void;
}

const malformed = [
  "missing_path",
  "unknown_pseudo",
  "pseudo_after_regular",
  "uppercase",
  "connection",
  "te_gzip",
  "duplicate_path",
];

const CASES: Case[] = [
  {
    name: "1. server SETTINGS first, ours ACKed, a unary call answers 200 + DATA + grpc-status 0",
    args: ["handshake_unary"],
    check(seen) {
      assert.equal(seen.first_frame, "SETTINGS", show(seen));
      assert.equal(seen.server_settings?.MAX_CONCURRENT_STREAMS, 5, show(seen));
      assert.ok(seen.settings_acked >= 1, `our SETTINGS are ACKed: ${show(seen)}`);
      const s = seen.streams["1"];
      assert.equal(header(s?.headers, ":status"), "200", show(seen));
      assert.match(header(s?.headers, "content-type") ?? "", /^application\/grpc(\+proto)?$/);
      assert.equal(s.trailers_only, false, show(seen));
      assert.equal(s.messages, 1, `one response message: ${show(seen)}`);
      assert.equal(header(s.trailers, "grpc-status"), "0", show(seen));
      assert.ok(s.end_stream, show(seen));
      assert.equal(seen.goaway, null, show(seen));
    },
  },
  ...["http1", "random"].map((kind): Case => ({
    name: `2. a bad preface (${kind}) closes the connection within 2 s`,
    args: ["bad_preface", kind],
    check(seen) {
      assert.ok(seen.closed && seen.closed_ms! < 2000, show(seen));
      if (seen.goaway) assert.equal(seen.goaway.code, PROTOCOL_ERROR, show(seen));
    },
  })),
  {
    name: "3. PING as the first frame after the preface: GOAWAY PROTOCOL_ERROR",
    args: ["no_settings_first"],
    check: (seen) => assertConnectionError(seen, PROTOCOL_ERROR),
  },
  {
    name: "4a. HEADERS on an even stream id: GOAWAY PROTOCOL_ERROR",
    args: ["even_stream"],
    check: (seen) => assertConnectionError(seen, PROTOCOL_ERROR),
  },
  {
    name: "4b. HEADERS on stream 3 after stream 5: GOAWAY PROTOCOL_ERROR",
    args: ["decreasing_stream"],
    check(seen) {
      assertCallOk(seen);
      assertConnectionError(seen, PROTOCOL_ERROR);
    },
  },
  {
    name: "5a. CONTINUATION without HEADERS: GOAWAY PROTOCOL_ERROR",
    args: ["continuation_without_headers"],
    check: (seen) => assertConnectionError(seen, PROTOCOL_ERROR),
  },
  {
    name: "5b. HEADERS without END_HEADERS, then PING: GOAWAY PROTOCOL_ERROR",
    args: ["headers_then_ping"],
    check: (seen) => assertConnectionError(seen, PROTOCOL_ERROR),
  },
  {
    name: "6. a 16385-byte HEADERS frame: GOAWAY FRAME_SIZE_ERROR",
    args: ["oversized_frame"],
    check: (seen) => assertConnectionError(seen, FRAME_SIZE_ERROR),
  },
  {
    name: "7a. PING: ACK with the same 8 bytes",
    args: ["ping"],
    check(seen) {
      assert.deepEqual(seen.ping_payloads, ["0102030405060708"], show(seen));
      assert.equal(seen.goaway, null, show(seen));
    },
  },
  {
    name: "7b. PING of length 7: GOAWAY FRAME_SIZE_ERROR",
    args: ["ping_len7"],
    check: (seen) => assertConnectionError(seen, FRAME_SIZE_ERROR),
  },
  {
    name: "7c. PING on stream 1: GOAWAY PROTOCOL_ERROR",
    args: ["ping_stream1"],
    check: (seen) => assertConnectionError(seen, PROTOCOL_ERROR),
  },
  ...([
    ["enable_push_2", "ENABLE_PUSH=2", PROTOCOL_ERROR],
    ["window_2_31", "INITIAL_WINDOW_SIZE=2^31", FLOW_CONTROL_ERROR],
    ["max_frame_100", "MAX_FRAME_SIZE=100", PROTOCOL_ERROR],
    ["len5", "of length 5", FRAME_SIZE_ERROR],
    ["ack_payload", "ACK with a payload", FRAME_SIZE_ERROR],
  ] as const).map(([arg, what, code]): Case => ({
    name: `8. SETTINGS ${what}: GOAWAY ${code}`,
    args: ["settings", arg],
    check: (seen) => assertConnectionError(seen, code),
  })),
  {
    name: "8. SETTINGS with an unknown id: ignored and ACKed",
    args: ["settings", "unknown_id"],
    check(seen) {
      assert.equal(seen.acked_after, 1, show(seen));
      assert.equal(seen.goaway, null, show(seen));
      assertCallOk(seen);
    },
  },
  {
    name: "9a. WINDOW_UPDATE of 0 on stream 0: GOAWAY PROTOCOL_ERROR",
    args: ["window_update", "zero", "conn"],
    check: (seen) => assertConnectionError(seen, PROTOCOL_ERROR),
  },
  {
    name: "9b. WINDOW_UPDATE of 0 on an open stream: RST_STREAM PROTOCOL_ERROR",
    args: ["window_update", "zero", "stream"],
    check(seen) {
      assertStreamError(seen, 1, PROTOCOL_ERROR);
      assertCallOk(seen);
    },
  },
  {
    name: "9c. WINDOW_UPDATE past 2^31-1 on the connection: GOAWAY FLOW_CONTROL_ERROR",
    args: ["window_update", "overflow", "conn"],
    check: (seen) => assertConnectionError(seen, FLOW_CONTROL_ERROR),
  },
  {
    name: "9d. WINDOW_UPDATE past 2^31-1 on an open stream: RST_STREAM FLOW_CONTROL_ERROR",
    args: ["window_update", "overflow", "stream"],
    check(seen) {
      assertStreamError(seen, 1, FLOW_CONTROL_ERROR);
      assertCallOk(seen);
    },
  },
  {
    name: "10a. DATA on stream 0: GOAWAY PROTOCOL_ERROR",
    args: ["data_stream0"],
    check: (seen) => assertConnectionError(seen, PROTOCOL_ERROR),
  },
  {
    name: "10b. DATA on idle stream 99: GOAWAY PROTOCOL_ERROR",
    args: ["data_idle"],
    check: (seen) => assertConnectionError(seen, PROTOCOL_ERROR),
  },
  {
    name: "10c. DATA after our END_STREAM on a still-open stream: RST_STREAM STREAM_CLOSED",
    args: ["data_half_closed"],
    check(seen) {
      assertStreamError(seen, 1, STREAM_CLOSED);
      assertCallOk(seen);
    },
  },
  {
    name: "10d. DATA on a closed stream: GOAWAY/RST_STREAM STREAM_CLOSED or ignored",
    args: ["data_closed"],
    check(seen) {
      assertCallOk(seen);
      if (seen.goaway) assertConnectionError(seen, STREAM_CLOSED);
      if (seen.rst["1"] !== undefined) assert.equal(seen.rst["1"], STREAM_CLOSED, show(seen));
    },
  },
  {
    name: "11. 160 KiB of DATA against a 64 KiB stream window: FLOW_CONTROL_ERROR",
    args: ["flow_control"],
    check(seen) {
      const code = seen.goaway ? seen.goaway.code : seen.rst["1"];
      assert.equal(code, FLOW_CONTROL_ERROR, show(seen));
    },
  },
  {
    name: "12. PUSH_PROMISE from the client: GOAWAY PROTOCOL_ERROR",
    args: ["push_promise"],
    check: (seen) => assertConnectionError(seen, PROTOCOL_ERROR),
  },
  ...malformed.map((variant): Case => ({
    name: `13. malformed request (${variant}): RST_STREAM PROTOCOL_ERROR, connection still works`,
    args: ["malformed", variant],
    check(seen) {
      assertStreamError(seen, 1, PROTOCOL_ERROR);
      assertCallOk(seen);
    },
  })),
  {
    name: "14a. content-type text/plain: :status 415 with END_STREAM",
    args: ["content_type"],
    check(seen) {
      const s = seen.streams["1"];
      assert.equal(header(s?.headers, ":status"), "415", show(seen));
      assert.ok(s.trailers_only, `one HEADERS with END_STREAM: ${show(seen)}`);
    },
  },
  {
    name: "14b. :method GET: :status 405 or RST_STREAM PROTOCOL_ERROR",
    args: ["method_get"],
    check(seen) {
      const s = seen.streams["1"];
      if (seen.rst["1"] !== undefined && !s) assertStreamError(seen, 1, PROTOCOL_ERROR);
      else assert.equal(header(s?.headers, ":status"), "405", show(seen));
    },
  },
  {
    name: "14c. an unknown method: Trailers-Only :status 200, grpc-status 12",
    args: ["unknown_path"],
    check(seen) {
      const s = seen.streams["1"];
      assert.equal(header(s?.headers, ":status"), "200", show(seen));
      assert.equal(header(s?.headers, "grpc-status"), "12", show(seen));
      assert.ok(s.trailers_only, `one HEADERS with END_STREAM: ${show(seen)}`);
    },
  },
  {
    name: "15. a 20 KB header list: Trailers-Only grpc-status 8, connection still works",
    args: ["big_headers"],
    check(seen) {
      const s = seen.streams["1"];
      assert.equal(header(s?.headers, ":status"), "200", show(seen));
      assert.equal(header(s?.headers, "grpc-status"), "8", show(seen));
      assert.ok(s.trailers_only, `one HEADERS with END_STREAM: ${show(seen)}`);
      assert.equal(seen.goaway, null, show(seen));
      assertCallOk(seen);
    },
  },
  {
    name: "16a. PRIORITY on an idle stream is ignored",
    args: ["priority", "idle"],
    check(seen) {
      assert.equal(seen.goaway, null, show(seen));
      assertCallOk(seen);
    },
  },
  {
    name: "16b. PRIORITY of length 4: FRAME_SIZE_ERROR",
    args: ["priority", "len4"],
    check(seen) {
      if (seen.goaway) assertConnectionError(seen, FRAME_SIZE_ERROR);
      else assertStreamError(seen, 1, FRAME_SIZE_ERROR);
    },
  },
  {
    name: "16c. an unknown frame type (0xfa) is ignored",
    args: ["unknown_frame"],
    check(seen) {
      assert.equal(seen.goaway, null, show(seen));
      assertCallOk(seen);
    },
  },
  {
    name: "17. a 6th stream while 5 are open: RST_STREAM REFUSED_STREAM",
    args: ["max_streams", "5"],
    check(seen) {
      assert.deepEqual(seen.open_before, [1, 3, 5, 7, 9], `5 streams open: ${show(seen)}`);
      assertStreamError(seen, 11, REFUSED_STREAM);
      assertCallOk(seen);
    },
  },
];

Deno.test({
  name: "native HTTP/2 conformance: each probe gets the RFC 9113 answer and svc keeps serving",
  ignore: missing !== null,
  async fn(t) {
    await using server = new Server();
    const svc = await server.ensure();
    const serving = svc.logs().find((l) => l.msg === "serving");
    assert.equal(serving?.transport, TRANSPORT, "the fixture runs the transport under test");
    for (const c of CASES) {
      await server.ensure();
      await t.step(c.name, async () => {
        const seen = await probe(server.svc.port, c.args);
        c.check(seen);
        await server.assertHealthy();
      });
    }
  },
});

Deno.test({
  name: "18. SIGTERM with a stream open: GOAWAY NO_ERROR covering it, then no new streams",
  ignore: missing !== null,
  async fn() {
    await using svc = await startSvc({
      config: CONFIG,
      env: {
        SVC_SERVER_TRANSPORT: TRANSPORT,
        SVC_SHUTDOWN_DRAIN_DELAY: "0s",
        SVC_SHUTDOWN_GRACE_PERIOD: "2s",
      },
    });
    const seen = await probe(svc.port, ["shutdown"], {
      onReady: () => Promise.resolve(svc.kill("SIGTERM")),
    });
    const goaways = seen.goaways_before_new_stream as Goaway[];
    assert.ok(goaways.length > 0, `a GOAWAY arrived: ${show(seen)}`);
    assert.ok(goaways.every((g) => g.code === NO_ERROR), `GOAWAY NO_ERROR: ${show(seen)}`);
    assert.ok(goaways.at(-1)!.last_stream_id >= 1, `it covers stream 1: ${show(seen)}`);
    // RFC 9113 §6.8: frames on streams above last_stream_id are ignored, so
    // stream 3's HEADERS and DATA must not end the connection (and stream 1) in error.
    assert.ok(
      seen.goaways.every((g) => g.code === NO_ERROR),
      `stream 3's frames are ignored, no error GOAWAY: ${show(seen)}`,
    );
    const late = seen.new_stream as CallSeen;
    assert.ok(
      late.grpc_status === null || late.grpc_status !== "0",
      `stream 3, opened after the GOAWAY, is not served: ${show(seen)}`,
    );
    assert.deepEqual(await svc.exited, { code: 0, signal: null });
  },
});
