/**
 * The load cases: what is sent, to which method, and how it is driven.
 * Cold start and RSS after load are measured on every process, not cases.
 * @module
 */

/** One load case. */
export interface BenchCase {
  readonly name: string;
  readonly description: string;
  /** The method the load calls (for the svc metrics check). */
  readonly method: "Say" | "Stream" | "Ping";
  /** h2load posts `body` as each request; pingpong uses the bench's own client. */
  readonly driver: "h2load" | "pingpong";
  /** One gRPC-framed request (h2load cases). */
  readonly body?: Uint8Array;
  /** Messages the server sends per call (for the metrics check). */
  readonly repliesPerCall: number;
  /** h2load's `-c` (connections) and `-m` (concurrent calls per connection). */
  readonly connections: number;
  readonly streams: number;
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

/** Every load case, in the order they run. */
export const CASES: readonly BenchCase[] = [
  {
    name: "unary-small",
    description: "unary Say, 12-byte message each way",
    method: "Say",
    driver: "h2load",
    body: grpcFrame(msg(10)),
    repliesPerCall: 1,
    connections: 8,
    streams: 32,
  },
  {
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
    name: "bidi-pingpong",
    description: "bidi Ping, one 12-byte message, wait for its echo, repeat",
    method: "Ping",
    driver: "pingpong",
    repliesPerCall: 1,
    // The bench's own client: connections × bidi calls on each.
    connections: 4,
    streams: 16,
  },
];
