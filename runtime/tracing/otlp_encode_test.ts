import assert from "node:assert/strict";
import { ROOT } from "../../tests/_harness.ts";
import { OTLP_PYTHONPATH, otlpProtoMissing } from "../../tests/_otlp.ts";
import { PYTHON } from "../../tests/_python.ts";
import { encodeAttributes, encodeResource } from "./otlp_encode.ts";
import { OtlpTraceEncoder } from "./otlp_batch.ts";
import { epochMsToNanos, ProtoWriter } from "./proto_writer.ts";
import { type SpanData, SpanKindCode, StatusCodeValue } from "./span_data.ts";

/** ms × 10⁶ rounded half up, exactly, from the double's own bits. */
function exactNanos(ms: number): bigint {
  if (!(ms > 0)) return 0n;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, ms);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exp = (biased === 0 ? 1 : biased) - 1075; // ms = mantissa × 2^exp
  const scaled = mantissa * 1_000_000n;
  let ns: bigint;
  if (exp >= 0) ns = scaled << BigInt(exp);
  else {
    const shift = BigInt(-exp);
    ns = scaled >> shift;
    if (2n * (scaled & ((1n << shift) - 1n)) >= 1n << shift) ns += 1n;
  }
  const max = (1n << 64n) - 1n;
  return ns > max ? max : ns;
}

Deno.test("epochMsToNanos() is exact against BigInt", () => {
  const origin = performance.timeOrigin;
  const edges = [0, -1, NaN, Infinity, 1, 0.000001, 0.0000004, 1.5, 8192.000244140625];
  edges.push(2 ** 32, 2 ** 32 - 0.5, 2 ** 44 + 0.25, 1_700_000_000_000, 1_700_000_000_000.5);
  edges.push(1_799_999_999_999.9998, origin, origin + performance.now(), Date.now());
  // The largest double under 2^64 ns, then the next, which clamps.
  edges.push(18446744073709.55078125, 18446744073709.5546875, Number.MAX_VALUE);
  // Sub-ms parts that are exact half nanoseconds at today's timestamp
  // precision (2^-12 ms), where rounding direction shows.
  for (let k = 32; k < 4096; k += 64) edges.push(1_712_345_678_901 + k / 4096);
  for (const ms of edges) assert.equal(epochMsToNanos(ms), exactNanos(ms), `ms = ${ms}`);
  for (let i = 0; i < 20_000; i++) {
    const samples = [
      origin + Math.random() * 1e9, // a process's lifetime of spans
      Math.random() * 2 ** 44, // any time up to the year 2527
      Math.floor(Math.random() * 2 ** 44), // whole ms
      8192 + Math.random() * 1e6,
    ];
    for (const ms of samples) assert.equal(epochMsToNanos(ms), exactNanos(ms), `ms = ${ms}`);
  }
});

Deno.test("ProtoWriter.string() writes what TextEncoder does, lone surrogates too", () => {
  const strings = [
    "",
    "a",
    "héllo wörld",
    "✓ 😀 中文",
    "\ud800",
    "x\udc00y",
    "\ud83d",
    "é".repeat(200),
  ];
  for (let i = 0; i < 2_000; i++) {
    const codes = Array.from({ length: Math.floor(Math.random() * 40) }, () => {
      const r = Math.random();
      return r < 0.4 ? Math.floor(Math.random() * 0x80) : Math.floor(Math.random() * 0x10000);
    });
    strings.push(String.fromCharCode(...codes));
  }
  const w = new ProtoWriter(16);
  for (const s of strings) {
    w.reset();
    w.string(s);
    const utf8 = new TextEncoder().encode(s);
    const expected = new ProtoWriter(16);
    expected.varint32(utf8.length);
    expected.raw(utf8);
    assert.deepEqual(w.finish(), expected.finish(), JSON.stringify(s));
  }
});

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SERVER_FIXED = encodeAttributes({
  "rpc.system": "grpc",
  "rpc.service": "helloworld.Greeter",
  "rpc.method": "SayHello",
}, 9);

/** A span with every field at its default, and `over` on top. */
function span(over: Partial<SpanData>): SpanData {
  return {
    traceId: TRACE,
    spanId: "b7ad6b7169203331",
    parentSpanId: null,
    parentIsRemote: false,
    traceState: "",
    traceFlags: 0,
    name: "",
    kind: 0,
    startMs: 0,
    endMs: 0,
    fixedAttributes: null,
    peer: null,
    grpcStatus: -1,
    attributes: null,
    events: null,
    links: null,
    statusCode: StatusCodeValue.UNSET,
    statusMessage: "",
    droppedAttributes: 0,
    droppedEvents: 0,
    droppedLinks: 0,
    ...over,
  };
}

function b64(hex: string): string {
  return btoa(String.fromCharCode(...hex.match(/../g)!.map((h) => parseInt(h, 16))));
}

type Json = Record<string, unknown>;

/** Runs tests/python/otlp_decode.py --canonical on `bytes`; its one JSON line. */
async function decode(bytes: Uint8Array): Promise<Json> {
  const child = new Deno.Command(PYTHON, {
    args: [`${ROOT}/tests/python/otlp_decode.py`, "--canonical"],
    env: { PYTHONPATH: OTLP_PYTHONPATH },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, 30_000);
  try {
    const output = child.output();
    const stdin = child.stdin.getWriter();
    await stdin.write(bytes).finally(() => stdin.close());
    const { code, stdout, stderr } = await output;
    const err = new TextDecoder().decode(stderr);
    assert.ok(!timedOut, "otlp_decode.py timed out");
    assert.equal(code, 0, `otlp_decode.py exited ${code}: ${err}`);
    return JSON.parse(new TextDecoder().decode(stdout));
  } finally {
    clearTimeout(timer);
  }
}

function spansOf(request: Json): Json[] {
  // deno-lint-ignore no-explicit-any
  return (request as any).resource_spans[0].scope_spans[0].spans;
}

function kv(key: string, value: Json): Json {
  return { key, value };
}

const START_MS = 1_712_345_678_901.25;
const END_MS = 1_712_345_678_903.75;
const missing = await otlpProtoMissing();
if (missing) console.warn(`otlp_encode_test: round trips skipped: ${missing}`);

Deno.test({
  name: "OtlpTraceEncoder output decodes with the official definitions, canonically",
  ignore: missing !== null,
  async fn() {
    const encoder = new OtlpTraceEncoder({
      resource: encodeResource({ "service.name": "greeter", "host.arch": null, "pid": 42 }),
      scopeName: "svc",
      scopeVersion: "1.2.3",
    });
    const server = span({
      spanId: "00f067aa0ba902b7",
      parentSpanId: "53995c3f42cd8ad8",
      parentIsRemote: true,
      traceState: "vendor=abc,other=x y",
      traceFlags: 1,
      name: "helloworld.Greeter/SayHello",
      kind: SpanKindCode.SERVER,
      startMs: START_MS,
      endMs: END_MS,
      fixedAttributes: SERVER_FIXED,
      peer: "127.0.0.1:40000",
      grpcStatus: 2,
      attributes: {
        "s": "héllo wörld ✓ 😀",
        "empty": "",
        "skipped": undefined,
        "int": 7,
        "neg": -42,
        "min": -(2 ** 53 - 1),
        "max": 2 ** 53 - 1,
        "big": 2 ** 40,
        "zero": 0,
        "dbl": 3.25,
        "huge": 1e300,
        "nan": NaN,
        "t": true,
        "f": false,
        "strs": ["a", "ü"],
        "nums": [1, -1.5, -3],
        "bools": [false, true],
        "none": [],
      },
      events: [
        { name: "message", timeMs: START_MS + 0.5, attributes: { "message.id": 1, "k": "v" } },
        { name: "bare", timeMs: START_MS + 1, attributes: null },
      ],
      links: [
        {
          traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
          spanId: "a3ce929d0e0e4736",
          traceState: "k=v",
          attributes: { "link.n": 1 },
        },
        { traceId: TRACE, spanId: "0000000000000001", traceState: "", attributes: null },
      ],
      statusCode: StatusCodeValue.ERROR,
      statusMessage: "deadline: ¡no!",
      droppedAttributes: 3,
      droppedEvents: 200,
      droppedLinks: 1,
    });
    const client = span({
      traceId: "ffffffffffffffffffffffffffffffff",
      spanId: "FFFFFFFFFFFFFFFF", // either case reads the same
      name: "helloworld.Greeter/SayHello",
      kind: SpanKindCode.CLIENT,
      startMs: START_MS,
      endMs: END_MS,
      statusCode: StatusCodeValue.OK,
    });
    const peers = ["[::1]:50051", "[fe80::1]", "::1", "unix:/tmp/s", "host:99999", "h:0", ":80"];
    const others = peers.map((peer) => span({ peer, kind: SpanKindCode.INTERNAL }));
    const decoded = await decode(encoder.encode([server, client, ...others]));

    assert.deepEqual(decoded, {
      resource_spans: [{
        resource: {
          attributes: [
            kv("service.name", { string_value: "greeter" }),
            kv("pid", { int_value: "42" }),
          ],
        },
        scope_spans: [{
          scope: { name: "svc", version: "1.2.3" },
          spans: spansOf(decoded),
        }],
      }],
    });
    const [s0, s1, ...rest] = spansOf(decoded);
    assert.deepEqual(s0, {
      trace_id: b64(TRACE),
      span_id: b64("00f067aa0ba902b7"),
      trace_state: "vendor=abc,other=x y",
      parent_span_id: b64("53995c3f42cd8ad8"),
      flags: 0x301,
      name: "helloworld.Greeter/SayHello",
      kind: "SPAN_KIND_SERVER",
      start_time_unix_nano: "1712345678901250000",
      end_time_unix_nano: "1712345678903750000",
      attributes: [
        kv("network.peer.address", { string_value: "127.0.0.1" }),
        kv("network.peer.port", { int_value: "40000" }),
        kv("rpc.grpc.status_code", { int_value: "2" }),
        kv("rpc.system", { string_value: "grpc" }),
        kv("rpc.service", { string_value: "helloworld.Greeter" }),
        kv("rpc.method", { string_value: "SayHello" }),
        kv("s", { string_value: "héllo wörld ✓ 😀" }),
        kv("empty", { string_value: "" }),
        kv("int", { int_value: "7" }),
        kv("neg", { int_value: "-42" }),
        kv("min", { int_value: "-9007199254740991" }),
        kv("max", { int_value: "9007199254740991" }),
        kv("big", { int_value: "1099511627776" }),
        kv("zero", { int_value: "0" }),
        kv("dbl", { double_value: 3.25 }),
        kv("huge", { double_value: 1e300 }),
        kv("nan", { double_value: "NaN" }),
        kv("t", { bool_value: true }),
        kv("f", { bool_value: false }),
        kv("strs", { array_value: { values: [{ string_value: "a" }, { string_value: "ü" }] } }),
        kv("nums", {
          array_value: {
            values: [{ int_value: "1" }, { double_value: -1.5 }, { int_value: "-3" }],
          },
        }),
        kv("bools", { array_value: { values: [{ bool_value: false }, { bool_value: true }] } }),
        kv("none", { array_value: {} }),
      ],
      dropped_attributes_count: 3,
      events: [
        {
          time_unix_nano: "1712345678901750000",
          name: "message",
          attributes: [kv("message.id", { int_value: "1" }), kv("k", { string_value: "v" })],
        },
        { time_unix_nano: "1712345678902250000", name: "bare" },
      ],
      dropped_events_count: 200,
      links: [
        {
          trace_id: b64("4bf92f3577b34da6a3ce929d0e0e4736"),
          span_id: b64("a3ce929d0e0e4736"),
          trace_state: "k=v",
          attributes: [kv("link.n", { int_value: "1" })],
        },
        { trace_id: b64(TRACE), span_id: b64("0000000000000001") },
      ],
      dropped_links_count: 1,
      status: { message: "deadline: ¡no!", code: "STATUS_CODE_ERROR" },
    });
    assert.deepEqual(s1, {
      trace_id: b64("ffffffffffffffffffffffffffffffff"),
      span_id: b64("ffffffffffffffff"),
      flags: 0x100,
      name: "helloworld.Greeter/SayHello",
      kind: "SPAN_KIND_CLIENT",
      start_time_unix_nano: "1712345678901250000",
      end_time_unix_nano: "1712345678903750000",
      status: { code: "STATUS_CODE_OK" },
    });
    const address = (value: string) => kv("network.peer.address", { string_value: value });
    const port = (value: number) => kv("network.peer.port", { int_value: String(value) });
    assert.deepEqual(rest.map((s) => s.attributes), [
      [address("::1"), port(50051)],
      [address("fe80::1")],
      [address("::1")],
      [address("unix:/tmp/s")],
      [address("host:99999")],
      [address("h"), port(0)],
      [port(80)],
    ]);
    for (const s of rest) assert.equal(s.kind, "SPAN_KIND_INTERNAL");
  },
});

/** A typical server span, `i` varying its ids and times. */
function serverSpan(i: number): SpanData {
  const id = i.toString(16).padStart(16, "0");
  return span({
    traceId: TRACE.slice(0, 16) + id,
    spanId: id,
    parentSpanId: "53995c3f42cd8ad8",
    parentIsRemote: true,
    traceFlags: 1,
    name: "helloworld.Greeter/SayHello",
    kind: SpanKindCode.SERVER,
    startMs: START_MS + i,
    endMs: START_MS + i + 0.125,
    fixedAttributes: SERVER_FIXED,
    peer: "127.0.0.1:40000",
    grpcStatus: 0,
  });
}

Deno.test({
  name:
    "OtlpTraceEncoder grows its buffer for a big batch, and its bodies stay theirs until recycled",
  ignore: missing !== null,
  async fn() {
    const options = {
      resource: encodeResource({ "service.name": "g" }),
      scopeName: "svc",
      scopeVersion: "",
    };
    const encoder = new OtlpTraceEncoder(options);
    // Lengths past what was reserved for them: a 20 KB attribute and its span.
    const long = "y".repeat(20_000);
    const small = [serverSpan(1), span({ name: "x".repeat(300), attributes: { long } })];
    const first = encoder.encode(small);
    const kept = first.slice();

    const big = Array.from({ length: 2_000 }, (_, i) => serverSpan(i));
    const bigBytes = encoder.encode(big);
    assert.ok(
      bigBytes.length > 64 * 1024,
      `${bigBytes.length} bytes: the buffer did not have to grow`,
    );
    assert.deepEqual(first, kept, "an earlier result changed under a later encode()");
    const spans = spansOf(await decode(bigBytes));
    assert.equal(spans.length, 2_000);
    const last = spans[1999];
    assert.equal(last.span_id, b64((1999).toString(16).padStart(16, "0")));
    assert.equal(last.start_time_unix_nano, String(1712345678901250000n + 1999_000_000n));
    assert.equal(last.end_time_unix_nano, String(1712345678901375000n + 1999_000_000n));

    // Names and peers now come from the encoder's caches; a new one encodes them afresh.
    const again = encoder.encode(small);
    assert.deepEqual(again, first);
    assert.deepEqual(again, new OtlpTraceEncoder(options).encode(small));
    const [s0, s1] = spansOf(await decode(again));
    assert.equal(s0.name, "helloworld.Greeter/SayHello");
    assert.equal(s1.name, "x".repeat(300));
    assert.deepEqual(s1.attributes, [kv("long", { string_value: long })]);
    // A recycled buffer serves a later batch; a body not recycled is left alone.
    const held = encoder.encode(small);
    const heldCopy = held.slice();
    encoder.recycle(first);
    // The open batch already has its buffer: the recycled one serves the one after.
    encoder.encode([serverSpan(8)]);
    const reused = encoder.encode([serverSpan(7)]);
    assert.equal(reused.buffer, first.buffer, "the recycled buffer was not reused");
    assert.deepEqual(held, heldCopy);
    assert.equal(spansOf(await decode(reused)).length, 1);
    // With headroom, the same request, and that many bytes free before it.
    encoder.append(serverSpan(1));
    encoder.append(span({ name: "x".repeat(300), attributes: { long } }));
    const roomy = encoder.seal(3000);
    assert.ok(roomy.byteOffset >= 3000, `only ${roomy.byteOffset} bytes before the body`);
    assert.deepEqual(roomy.slice(), kept);
    // An empty batch (never sent) has the resource and no ScopeSpans.
    // deno-lint-ignore no-explicit-any
    const empty = await decode(encoder.encode([])) as any;
    assert.equal(empty.resource_spans[0].scope_spans, undefined);
  },
});

Deno.test("OtlpTraceEncoder: spans of handler code's tracers go under their own scopes", async () => {
  const missing = await otlpProtoMissing();
  if (missing) {
    console.warn(`skipped: ${missing}`);
    return;
  }
  const encoder = new OtlpTraceEncoder({
    resource: encodeResource({ "service.name": "s" }),
    scopeName: "svc",
    scopeVersion: "0.1.0",
  });
  const base = serverSpan(1);
  const spans: SpanData[] = [
    { ...base, name: "a" },
    { ...base, name: "b", scope: { name: "orders-db", version: "2" } },
    { ...base, name: "c", scope: { name: "svc", version: "0.1.0" } },
    { ...base, name: "d", scope: { name: "orders-db", version: "2" } },
  ];
  // deno-lint-ignore no-explicit-any
  const request = await decode(encoder.encode(spans)) as any;
  // deno-lint-ignore no-explicit-any
  const scopes = request.resource_spans[0].scope_spans.map((group: any) => ({
    scope: group.scope,
    // deno-lint-ignore no-explicit-any
    names: group.spans.map((one: any) => one.name),
  }));
  assert.deepEqual(scopes, [
    { scope: { name: "svc", version: "0.1.0" }, names: ["a", "c"] },
    { scope: { name: "orders-db", version: "2" }, names: ["b", "d"] },
  ]);
  assert.equal(request.resource_spans[0].resource.attributes[0].value.string_value, "s");
});
