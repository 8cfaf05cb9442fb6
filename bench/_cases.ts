/**
 * The load cases: what is sent, to which method, and how it is driven.
 * Cold start, RSS idle and RSS after load are measured on every process,
 * not cases; the fixed-rate latency cases and the idle-connections case
 * (issue 20) are cases.
 * @module
 */

/**
 * What a case speaks: gRPC (every contender), or one of the web protocols
 * (only contenders that serve them; see Contender.serves).
 */
export type CaseProtocol = "grpc" | "connect-json" | "grpc-web";

/** One load case. */
export interface BenchCase {
  readonly name: string;
  readonly description: string;
  readonly protocol: CaseProtocol;
  /** HTTP version of the load: h2load speaks HTTP/1.1 with `--h1`. */
  readonly http: "2" | "1.1";
  /** The service and method the load calls (its URL, and the svc metrics check). */
  readonly service: string;
  readonly method: string;
  /** Request headers h2load sends besides its own (`name:value`). */
  readonly headers: readonly string[];
  /**
   * h2load posts `body` as each request; pingpong uses the bench's own
   * client; idle-connections opens `connections` HTTP/2 connections, makes
   * one call on each and holds them (_idle_connections.ts).
   */
  readonly driver: "h2load" | "pingpong" | "idle-connections";
  /**
   * The ping-pong client: Node's (pingpong.mjs, node:http2) or the Go one
   * on raw HTTP/2 frames (clients/go_pingpong), which costs less per round
   * trip than either server, so the server's core is what it measures.
   */
  readonly pingpongClient?: "node" | "go";
  /** One request body (h2load cases): gRPC- or gRPC-Web-framed, or Connect's JSON. */
  readonly body?: Uint8Array;
  /** Messages the server sends per call (for the metrics check). */
  readonly repliesPerCall: number;
  /** Client streaming: request messages per call, checked against svc's received count. */
  readonly requestsPerCall?: number;
  /** h2load's `-c` (connections) and `-m` (concurrent calls per connection). */
  readonly connections: number;
  readonly streams: number;
  /**
   * Fixed-rate cases: the calls/s h2load offers in all (`--rps` is per
   * connection, so each connection gets rate / connections), instead of as
   * many as the server answers.
   */
  readonly rate?: number;
  /**
   * Or a fraction of svc-native's unary-small saturation, measured at the
   * start of the same run (or given with --saturation); run.ts turns it
   * into `rate`.
   */
  readonly rateOfSaturation?: number;
}

/** Whether `benchCase` offers a fixed rate (its own table: p50/p99/p99.9). */
export function isFixedRate(benchCase: BenchCase): boolean {
  return benchCase.rate !== undefined || benchCase.rateOfSaturation !== undefined;
}

/** Writes `benchCase`'s request body into the folder `tmp`; returns the file. */
export function caseBodyFile(benchCase: BenchCase, tmp: string): string {
  const file = `${tmp}/${benchCase.name}.bin`;
  Deno.writeFileSync(file, benchCase.body!);
  return file;
}

/** Protobuf `helloworld.HelloRequest { name }` (a string of one-byte characters). */
export function helloRequest(name: string): Uint8Array {
  return concat(Uint8Array.of(0x0a, ...varint(name.length)), new TextEncoder().encode(name));
}

/** Protobuf `bench.Msg { payload }` with `size` payload bytes. */
export function msg(size: number): Uint8Array {
  return concat(Uint8Array.of(0x0a, ...varint(size)), new Uint8Array(size).fill(0x61));
}

/** Protobuf `bench.StreamRequest { count, payload }`. */
export function streamRequest(count: number, size: number): Uint8Array {
  return concat(
    Uint8Array.of(0x08, ...varint(count), 0x12, ...varint(size)),
    new Uint8Array(size).fill(0x61),
  );
}

/** The 5-byte gRPC prefix (uncompressed, big-endian length) and `message`. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

function varint(n: number): number[] {
  const out = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Server-streaming replies per call. */
export const STREAM_COUNT = 1000;

/** Client-streaming requests per call. */
export const COLLECT_COUNT = 100;

/** `count` copies of `frame` back to back: one client-streaming request body. */
export function repeatFrame(frame: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) out.set(frame, i * frame.length);
  return out;
}

/** What the gRPC cases have in common: bench.Echo over HTTP/2. */
const GRPC = {
  protocol: "grpc",
  http: "2",
  service: "bench.Echo",
  headers: ["content-type:application/grpc", "te:trailers", "x-api-key:bench"],
} as const;

/**
 * The name the web cases greet: 10 bytes, as unary-small's payload, so the
 * gRPC-Web request is byte for byte as long as unary-small's (17 bytes).
 */
export const WEB_NAME = "a".repeat(10);

/**
 * One web case: helloworld.Greeter/SayHello (the demo handler's unary
 * method) in `protocol` over HTTP `http`. Over HTTP/1.1 the load is 64
 * keep-alive connections with one request at a time each (no pipelining,
 * as browsers do); over HTTP/2 it is unary-small's 8 × 32.
 */
function webCase(protocol: "connect-json" | "grpc-web", http: "2" | "1.1"): BenchCase {
  const json = protocol === "connect-json";
  return {
    name: `${json ? "connect-json" : "grpc-web"}-unary-h${http === "2" ? "2" : "1"}`,
    description: `unary SayHello, ${
      json ? "Connect JSON" : "gRPC-Web binary"
    } over HTTP/${http}, a 10-character name`,
    protocol,
    http,
    service: "helloworld.Greeter",
    method: "SayHello",
    headers: json
      ? ["content-type:application/json", "connect-protocol-version:1"]
      : ["content-type:application/grpc-web+proto", "x-grpc-web:1"],
    driver: "h2load",
    body: json
      ? new TextEncoder().encode(JSON.stringify({ name: WEB_NAME }))
      : grpcFrame(helloRequest(WEB_NAME)),
    repliesPerCall: 1,
    connections: http === "2" ? 8 : 64,
    streams: http === "2" ? 32 : 1,
  };
}

/**
 * Unary-small at a fixed offered rate. 8 connections as unary-small, but up
 * to 64 calls in flight on each: h2load holds back a call that is due while
 * `-m` are in flight, and times it from when it is sent, not when it was due
 * (coordinated omission), so the cap must stay out of reach.
 */
function fixedRate(name: string, rate: { rate: number } | { rateOfSaturation: number }): BenchCase {
  const what = "rate" in rate
    ? `${rate.rate.toLocaleString("en-US")} calls/s`
    : `${rate.rateOfSaturation * 100} % of svc-native's unary-small saturation`;
  return {
    ...GRPC,
    name,
    description: `unary Say, 12-byte message each way, offered at a fixed ${what}`,
    method: "Say",
    driver: "h2load",
    body: grpcFrame(msg(10)),
    repliesPerCall: 1,
    connections: 8,
    streams: 64,
    ...rate,
  };
}

/** unary-small: the small call every comparison starts from. */
const UNARY_SMALL: BenchCase = {
  ...GRPC,
  name: "unary-small",
  description: "unary Say, 12-byte message each way",
  method: "Say",
  driver: "h2load",
  body: grpcFrame(msg(10)),
  repliesPerCall: 1,
  connections: 8,
  streams: 32,
};

/** Every load case, in the order they run. */
export const CASES: readonly BenchCase[] = [
  UNARY_SMALL,
  {
    // As real clients send: grpc-go with a context timeout, grpcurl -max-time.
    // Every call arms and clears a deadline, which a timer per call made
    // 2.6× dearer (bench/README.md, "The promotion chain").
    ...UNARY_SMALL,
    headers: [...GRPC.headers, "grpc-timeout:30S"],
    name: "unary-small-deadline",
    description: "unary Say, 12-byte message each way, each call with a 30 s deadline",
  },
  {
    ...GRPC,
    name: "unary-64k",
    description: "unary Say, 64 KiB payload each way",
    method: "Say",
    driver: "h2load",
    body: grpcFrame(msg(65536)),
    repliesPerCall: 1,
    connections: 8,
    streams: 32,
  },
  {
    ...GRPC,
    name: "stream-1000",
    description: `server streaming Stream, ${STREAM_COUNT} 12-byte replies per call`,
    method: "Stream",
    driver: "h2load",
    body: grpcFrame(streamRequest(STREAM_COUNT, 10)),
    repliesPerCall: STREAM_COUNT,
    // 16 streams of 1000 in flight, not 256: calls still finish several
    // times a second, and few are cut off when h2load stops.
    connections: 4,
    streams: 4,
  },
  {
    ...GRPC,
    name: "client-stream-100",
    description: `client streaming Collect, ${COLLECT_COUNT} 12-byte requests, one reply per call`,
    method: "Collect",
    driver: "h2load",
    // One request of 100 gRPC messages, then END_STREAM: the server reads
    // them as they arrive in the DATA frames, then answers the last.
    body: repeatFrame(grpcFrame(msg(10)), COLLECT_COUNT),
    repliesPerCall: 1,
    requestsPerCall: COLLECT_COUNT,
    // 64 calls (6,400 messages) in flight keep one server core busy, as
    // unary-small's 256 do, with fewer calls cut off when h2load stops.
    connections: 8,
    streams: 8,
  },
  {
    ...GRPC,
    name: "bidi-pingpong",
    description: "bidi Ping, one 12-byte message, wait for its echo, repeat",
    method: "Ping",
    driver: "pingpong",
    repliesPerCall: 1,
    // The bench's own client: connections × bidi calls on each. Node's
    // client is the bottleneck here (bench/README.md, "Bidi: whose core is
    // measured"): bidi-pingpong-go is the server's figure.
    connections: 4,
    streams: 16,
  },
  {
    ...GRPC,
    name: "bidi-pingpong-go",
    description:
      "bidi Ping as bidi-pingpong, from a Go client on raw HTTP/2 frames, 8 connections × 16 calls",
    method: "Ping",
    driver: "pingpong",
    pingpongClient: "go",
    repliesPerCall: 1,
    // 128 calls in flight keep one server core busy for svc and grpc-go alike.
    connections: 8,
    streams: 16,
  },
  fixedRate("unary-small-5k", { rate: 5000 }),
  fixedRate("unary-small-25pct", { rateOfSaturation: 0.25 }),
  fixedRate("unary-small-50pct", { rateOfSaturation: 0.5 }),
  {
    ...GRPC,
    name: "idle-connections-1000",
    description: "1,000 HTTP/2 connections, one unary-small call each, then held idle",
    method: "Say",
    driver: "idle-connections",
    body: grpcFrame(msg(10)),
    repliesPerCall: 1,
    connections: 1000,
    streams: 1,
  },
  webCase("connect-json", "1.1"),
  webCase("grpc-web", "1.1"),
  webCase("connect-json", "2"),
  webCase("grpc-web", "2"),
];
