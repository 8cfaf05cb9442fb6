/**
 * Transport parity: the same fixture served by `server.transport: grpc-js`
 * and by `server.transport: native` must look the same to clients. One svc
 * per transport, same config and env but for SVC_SERVER_TRANSPORT; the same
 * calls against both, from Python grpcio (tests/python/parity_client.py,
 * raw bytes through grpcio's generic API) and from grpc-js in this process;
 * status codes, details, response headers, trailers and messages compared.
 *
 * What is not compared, and why, is in NORMALIZATIONS below: each entry is
 * a difference a user of one transport could notice on the other.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { isDeepStrictEqual } from "node:util";
import { grpcClient, type GrpcTestClient, ROOT, startSvc, type SvcProcess } from "./_harness.ts";
import { pythonGrpcMissing, runPython } from "./_python.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const PROTO = `${ROOT}/tests/fixtures/e2e/proto/e2e.proto`;
const TRANSPORTS = ["grpc-js", "native"] as const;
type Transport = typeof TRANSPORTS[number];
const CALL_TIMEOUT_MS = 10_000;
const pythonMissing = await pythonGrpcMissing();

/**
 * Everything removed or rewritten before comparing. Keep it short: each
 * entry is a behaviour difference between the transports.
 *
 * - `date` (response header, or trailer of a Trailers-Only response, as
 *   grpcio reports them): node:http2 stamps every grpc-js response with
 *   it; the native transport sends none. Dropped on both sides (its value is
 *   the clock anyway). grpc-js clients do not report it.
 * - `content-type` (as grpc-js clients report it; grpcio hides it): grpc-js
 *   answers "application/grpc+proto", the native transport
 *   "application/grpc" (both valid; grpc-go sends the latter). Each side
 *   must have exactly its value, then both become a marker.
 * - details of an OK status: grpc-js sends `grpc-message: OK`, so clients
 *   report details "OK"; the native transport sends no grpc-message on OK
 *   (as grpc-go and grpc-core servers do), so they report "". The grpc-js
 *   side must be exactly "OK" and becomes "".
 * - a request metadata key sent twice (case unary_repeated_metadata_key):
 *   Node's http2 joins repeated header fields, so a grpc-js handler sees one
 *   value "one, two"; the native transport keeps the fields apart and the
 *   handler's first value is "one" (what grpc-go and grpc-core do). Both
 *   values are checked exactly, then replaced by a marker.
 *
 * Not transport differences, but races in the clients, normalised where
 * the cases are built: DEADLINE_EXCEEDED details (the client's timer or
 * the server's may fire first) and the messages grpc-js on Deno drops just
 * before an error status.
 */
const NORMALIZATIONS = {
  strippedMetadata: ["date"],
  pinnedMetadata: {
    "content-type": { "grpc-js": "application/grpc+proto", native: "application/grpc" },
  } as Record<string, Record<Transport, string>>,
  okDetails: { "grpc-js": "OK", native: "" },
  repeatedKey: {
    case: "unary_repeated_metadata_key",
    key: "x-multi",
    firstValue: { "grpc-js": "one, two", native: "one" },
  },
} as const;

/** What the Python client must report for each case (both transports). */
const PYTHON_CASES: Record<string, string> = {
  unary_ok: "OK",
  unary_no_deadline: "OK",
  unary_metadata: "OK",
  unary_repeated_metadata_key: "OK",
  unary_empty_request: "OK",
  rpc_error: "FAILED_PRECONDITION",
  rpc_error_empty_message: "UNAUTHENTICATED",
  rpc_error_code_out_of_range: "UNKNOWN",
  plain_error: "INTERNAL",
  bad_return: "INTERNAL",
  malformed_request: "INTERNAL",
  proto_method_without_handler: "UNIMPLEMENTED",
  unknown_method: "UNIMPLEMENTED",
  unknown_service: "UNIMPLEMENTED",
  deadline_exceeded: "DEADLINE_EXCEEDED",
  deadline_met: "OK",
  server_stream: "OK",
  server_stream_empty: "OK",
  server_stream_error_midway: "ABORTED",
  client_stream: "OK",
  client_stream_empty: "OK",
  client_stream_too_large: "RESOURCE_EXHAUSTED",
  bidi: "OK",
  bidi_empty: "OK",
  request_too_large: "RESOURCE_EXHAUSTED",
  response_too_large: "RESOURCE_EXHAUSTED",
  response_near_limit: "OK",
  gzip_request: "OK",
  deflate_request: "OK",
  gzip_request_inflates_too_large: "RESOURCE_EXHAUSTED",
  gzip_client_stream: "OK",
};

type Pairs = [string, string][];
interface PythonOutcome {
  code: string;
  details: string;
  initial_metadata?: Pairs;
  trailing_metadata?: Pairs;
  messages: string[];
}
type PythonResults = Record<string, PythonOutcome>;

/** What a grpc-js client saw of one call. */
interface JsOutcome {
  code: number;
  details: string;
  headers: Pairs | null;
  trailers: Pairs;
  messages: unknown[];
}

Deno.test("grpc-js and native transports look the same to grpcio and grpc-js clients", async (t) => {
  await using servers = await startBoth();

  await t.step({
    name: "Python grpcio: codes, details, headers, trailers and messages",
    ignore: pythonMissing !== null,
    fn: async () => {
      const [fromJs, fromNative] = await Promise.all(
        TRANSPORTS.map(async (transport) => {
          const lines = await runPython("parity_client.py", [String(servers[transport].port)]);
          assert.equal(lines.length, 1, `one JSON line from parity_client.py (${transport})`);
          return lines[0] as unknown as PythonResults;
        }),
      );
      const repeated = NORMALIZATIONS.repeatedKey;
      for (const [transport, results] of [["grpc-js", fromJs], ["native", fromNative]] as const) {
        assert.deepEqual(Object.keys(results).sort(), Object.keys(PYTHON_CASES).sort());
        const codes = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.code]));
        assert.deepEqual(codes, PYTHON_CASES, `status codes from the ${transport} transport`);
        const entry = mapEntryHex(repeated.key, repeated.firstValue[transport]);
        assert.ok(
          results[repeated.case].messages[0]?.includes(entry),
          `${transport}: the handler's first ${repeated.key} is not ` +
            `"${repeated.firstValue[transport]}": ${results[repeated.case].messages[0]}`,
        );
      }
      // The baseline says what the fixture does, so a parity of two wrong answers fails too.
      assert.deepEqual(fromJs.unary_ok.initial_metadata?.[0], ["x-echo-header", "h"]);
      assert.deepEqual(fromJs.unary_ok.trailing_metadata, [
        ["x-echo-trailer", "t"],
        ["x-echo-trailer-bin", "AQID"],
      ]);
      assert.deepEqual(fromJs.rpc_error.details, "naïve 100% sure: ✓ 50%2F done\ttab");
      assert.deepEqual(fromJs.rpc_error.trailing_metadata?.[0], ["x-error-detail", "why"]);
      assert.equal(fromJs.plain_error.details, "internal error");
      assert.equal(fromJs.server_stream.messages.length, 5);
      assert.equal(fromJs.server_stream_error_midway.messages.length, 3);
      assert.equal(fromJs.server_stream_error_midway.details, "stopped after 3");
      assert.deepEqual(fromJs.client_stream.messages, ["08ba27"], "Sum(1..100) = 5050");
      assert.equal(fromJs.bidi.messages.length, 3);

      const differences = Object.keys(PYTHON_CASES).flatMap((name) => {
        const js = normalizePython("grpc-js", name, fromJs[name]);
        const native = normalizePython("native", name, fromNative[name]);
        return isDeepStrictEqual(js, native) ? [] : [{ case: name, "grpc-js": js, native }];
      });
      assert.deepEqual(differences, [], describe(differences));
    },
  });

  await t.step("grpc-js client: codes, details, headers, trailers and messages", async () => {
    const [fromJs, fromNative] = await Promise.all(
      TRANSPORTS.map((transport) => jsCases(servers[transport].port)),
    );
    assert.equal(fromJs.unary_metadata.code, grpc.status.OK);
    assert.deepEqual(fromJs.rpc_error.trailers.filter(([key]) => key.startsWith("x-")), [
      ["x-error-detail", "why"],
    ]);
    assert.equal(fromJs.rpc_error.details, "naïve 100% sure: ✓ 50%2F done\ttab");
    assert.equal(fromJs.server_stream_error_midway.code, grpc.status.ABORTED);
    assert.equal(fromJs.gzip_request.code, grpc.status.OK);
    assert.equal(fromJs.request_too_large.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(fromJs.deadline_exceeded.code, grpc.status.DEADLINE_EXCEEDED);

    const differences = Object.keys(fromJs).flatMap((name) => {
      const js = normalizeJs("grpc-js", fromJs[name]);
      const native = normalizeJs("native", fromNative[name]);
      return isDeepStrictEqual(js, native) ? [] : [{ case: name, "grpc-js": js, native }];
    });
    assert.deepEqual(differences, [], describe(differences));
  });
});

// --- servers -----------------------------------------------------------------

type Servers = Record<Transport, SvcProcess> & AsyncDisposable;

/** One svc per transport, started together; neither is left running if the other fails. */
async function startBoth(): Promise<Servers> {
  const started = await Promise.allSettled(
    TRANSPORTS.map((transport) =>
      startSvc({
        config: CONFIG,
        // Explicit: whatever SVC_TEST_TRANSPORT says, both transports are compared.
        env: { SVC_SERVER_TRANSPORT: transport, SVC_ADMIN_ENABLED: "false" },
      })
    ),
  );
  const stopAll = () =>
    Promise.all(started.map((r) => r.status === "fulfilled" ? r.value.stop() : null));
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const [js, native] = started.map((r) => (r as PromiseFulfilledResult<SvcProcess>).value);
  try {
    for (const [svc, transport] of [[js, "grpc-js"], [native, "native"]] as const) {
      const serving = svc.logs().find((l) => l.msg === "serving");
      assert.equal(serving?.transport, transport, "the serving line names the transport");
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    "grpc-js": js,
    native,
    [Symbol.asyncDispose]: async () => {
      await stopAll();
    },
  };
}

// --- normalization -----------------------------------------------------------

function stripPairs<T extends Pairs | null | undefined>(transport: Transport, pairs: T): T {
  const stripped: readonly string[] = NORMALIZATIONS.strippedMetadata;
  const pinned = NORMALIZATIONS.pinnedMetadata;
  return pairs?.filter(([key]) => !stripped.includes(key)).map(([key, value]) =>
    pinned[key]?.[transport] === value ? [key, `<${key} as expected>`] : [key, value]
  ) as T;
}

function normalizePython(transport: Transport, name: string, outcome: PythonOutcome) {
  const out = {
    ...outcome,
    initial_metadata: stripPairs(transport, outcome.initial_metadata),
    trailing_metadata: stripPairs(transport, outcome.trailing_metadata),
  };
  if (out.code === "OK" && out.details === NORMALIZATIONS.okDetails[transport]) out.details = "";
  const repeated = NORMALIZATIONS.repeatedKey;
  if (name === repeated.case) {
    const entry = mapEntryHex(repeated.key, repeated.firstValue[transport]);
    out.messages = out.messages.map((m) => m.replace(entry, `<${repeated.key} as expected>`));
  }
  return out;
}

function normalizeJs(transport: Transport, outcome: JsOutcome): JsOutcome {
  const out = {
    ...outcome,
    headers: stripPairs(transport, outcome.headers),
    trailers: stripPairs(transport, outcome.trailers),
  };
  if (out.code === grpc.status.OK && out.details === NORMALIZATIONS.okDetails[transport]) {
    out.details = "";
  }
  return out;
}

/** Hex of one `map<string, string>` entry of EchoReply.metadata (field 3). */
function mapEntryHex(key: string, value: string): string {
  const text = new TextEncoder();
  const field = (tag: number, bytes: Uint8Array) => [tag, bytes.length, ...bytes];
  const entry = [...field(0x0a, text.encode(key)), ...field(0x12, text.encode(value))];
  return Buffer.from(field(0x1a, Uint8Array.from(entry))).toString("hex");
}

function describe(differences: unknown[]): string {
  return `the transports differ in ${differences.length} case(s):\n` +
    JSON.stringify(differences, null, 2);
}

// --- grpc-js client ------------------------------------------------------------

const MESSAGE = "naïve 100% sure: ✓ 50%2F done\ttab";

/** The grpc-js subset, against one server. */
async function jsCases(port: number): Promise<Record<string, JsOutcome>> {
  const factory = grpcClient([PROTO]);
  const client = factory.makeClient("e2e.Test", port);
  const gzip = factory.makeClient("e2e.Test", port, undefined, {
    "grpc.default_compression_algorithm": 2,
  });
  try {
    const md = new grpc.Metadata();
    md.set("x-request-tag", "abc");
    md.set("x-request-bin", Buffer.from([0, 1, 0xfe, 0xff]));
    const out: Record<string, JsOutcome> = {};
    out.unary_metadata = await call(client, "unary", "echo", { message: "hi", id: "7" }, { md });
    out.rpc_error = await call(client, "unary", "fail", { kind: "rpc", code: 9, message: MESSAGE });
    out.rpc_error_empty_message = await call(client, "unary", "fail", { kind: "rpc", code: 16 });
    out.plain_error = await call(client, "unary", "fail", { kind: "plain" });
    out.proto_method_without_handler = await call(client, "unary", "notImplemented", {});
    out.unknown_method = await call(client, "raw", "/e2e.Test/Nope", Buffer.alloc(0));
    out.deadline_exceeded = await call(client, "unary", "sleep", { ms: 10_000, tag: "js" }, {
      timeoutMs: 300,
    });
    // Which timer fires first (the client's or the server's) is a race; the
    // client's details add timings ("Deadline exceeded after 0.302s,...").
    out.deadline_exceeded.details = out.deadline_exceeded.details.replace(
      /^deadline exceeded\b.*$/is,
      "deadline exceeded",
    );
    out.deadline_exceeded.headers = out.deadline_exceeded.trailers = [];
    out.server_stream = await call(client, "server", "count", { count: 5, size: 3 });
    out.server_stream_error_midway = await call(client, "server", "count", {
      count: 10,
      failAfter: 3,
    });
    // grpc-js on Deno may drop messages that arrive just before an error
    // status (see e2e_test.ts); Python checks them.
    out.server_stream_error_midway.messages = [];
    const numbers = Array.from({ length: 100 }, (_, i) => ({ value: String(i + 1) }));
    out.client_stream = await call(client, "client", "sum", numbers);
    out.bidi = await call(client, "bidi", "chat", ["a", "b", "c"].map((message) => ({ message })));
    out.request_too_large = await call(client, "unary", "echo", { message: "x".repeat(70_000) });
    out.response_too_large = await call(client, "unary", "big", { size: 70_000 });
    out.gzip_request = await call(gzip, "unary", "echo", { message: "zipped ".repeat(50) });
    out.gzip_client_stream = await call(gzip, "client", "sum", numbers.slice(0, 10));
    return out;
  } finally {
    client.close();
    gzip.close();
  }
}

type Kind = "unary" | "raw" | "server" | "client" | "bidi";

/**
 * One call; settles when both the response side (callback, or end/error)
 * and the status have arrived. Bounded by the call's deadline.
 */
function call(
  client: GrpcTestClient,
  kind: Kind,
  method: string,
  request: unknown,
  options: { md?: grpc.Metadata; timeoutMs?: number } = {},
): Promise<JsOutcome> {
  return new Promise((resolve) => {
    const md = options.md ?? new grpc.Metadata();
    const callOptions = { deadline: Date.now() + (options.timeoutMs ?? CALL_TIMEOUT_MS) };
    const messages: unknown[] = [];
    let headers: Pairs | null = null;
    let status: grpc.StatusObject | null = null;
    let pending = 2;
    const settle = () => {
      if (--pending > 0) return;
      resolve({
        code: status!.code,
        details: status!.details,
        headers,
        trailers: pairsOf(status!.metadata),
        messages: messages.map(normalizeMessage),
      });
    };
    const onResponse = (error: grpc.ServiceError | null, response: unknown) => {
      if (!error) messages.push(response);
      settle();
    };
    let stream: grpc.ClientUnaryCall;
    if (kind === "unary") stream = client[method](request, md, callOptions, onResponse);
    else if (kind === "raw") {
      stream = client.makeUnaryRequest(
        method,
        (x: Buffer) => x,
        (b: Buffer) => b,
        request as Buffer,
        md,
        callOptions,
        onResponse,
      );
    } else if (kind === "client") {
      const writable = client[method](md, callOptions, onResponse);
      for (const message of request as unknown[]) writable.write(message);
      writable.end();
      stream = writable;
    } else {
      const readable = kind === "server"
        ? client[method](request, md, callOptions)
        : client[method](md, callOptions);
      readable.on("data", (message: unknown) => messages.push(message));
      readable.on("end", settle);
      readable.on("error", settle);
      if (kind === "bidi") {
        for (const message of request as unknown[]) readable.write(message);
        readable.end();
      }
      stream = readable;
    }
    stream.on("metadata", (m: grpc.Metadata) => headers = pairsOf(m));
    stream.on("status", (s: grpc.StatusObject) => {
      status = s;
      settle();
    });
  });
}

function pairsOf(md: grpc.Metadata): Pairs {
  return Object.entries(md.toJSON()).flatMap(([key, values]) =>
    values.map((v): [string, string] => [key, Buffer.isBuffer(v) ? v.toString("base64") : v])
  );
}

/** EchoReply's per-connection fields made stable; other messages as they are. */
function normalizeMessage(message: unknown): unknown {
  if (Buffer.isBuffer(message)) return message.toString("hex");
  const m = { ...(message as Record<string, unknown>) };
  if (typeof m.peer === "string") m.peer = m.peer.replace(/:\d+$/, ":PORT");
  if (typeof m.deadlineInMs === "number" && m.deadlineInMs > 0) {
    m.deadlineInMs = m.deadlineInMs <= CALL_TIMEOUT_MS ? "within the deadline" : m.deadlineInMs;
  }
  if (m.data instanceof Uint8Array) m.data = `${m.data.length} bytes`;
  return m;
}
