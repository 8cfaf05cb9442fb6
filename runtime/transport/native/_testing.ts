// Shared by connection_test.ts and connection_fuzz_test.ts; not part of the module's API.
//
// An in-memory ByteSocket, HTTP/2 frame builders for the client side, and a checker that parses
// everything the server wrote and asserts it is a well-formed frame sequence.
import { unlimitedBudget } from "../../util/memory_budget.ts";
import { InflateGate } from "./compression.ts";
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { createLogger } from "../../log/mod.ts";
import type { Route, TransportCall } from "../types.ts";
import { Http2Connection } from "./connection.ts";
import { Flag, FRAME_HEADER_BYTES, FrameType, PREFACE, readU32 } from "./frame.ts";
import { type HeaderField, HpackDecoder, HpackEncoder } from "./hpack/mod.ts";
import type { NativeLimits } from "./limits.ts";
import type { ByteSocket } from "./socket.ts";
import { prng as mulberry32, randInt } from "./hpack/_testing.ts";

export { PREFACE };

// ------------------------------------------------------------------ randomness

// One seeded PRNG for every test here, so failures reproduce.
export { mulberry32, randInt };

/** `n` random bytes. */
export function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = randInt(rand, 256);
  return out;
}

// ------------------------------------------------------------------ the socket

/** Size of the read buffer the fake reuses between reads, like denoSocket does. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * An in-memory ByteSocket. The test pushes input chunks (or ends the input); the connection's
 * reads get them in order. Each read returns a view of one reused buffer, which is scribbled over
 * before the next read, so a connection that keeps a view past its read is caught. Everything
 * written is collected.
 */
export class FakeSocket implements ByteSocket {
  readonly peer = "127.0.0.1:40000";
  readonly peerCertificate = null;
  /** Copies of every write, in order. */
  readonly writes: Uint8Array[] = [];
  writtenBytes = 0;
  closeCalls = 0;
  readCalls = 0;
  /** Called before each write resolves; a test may return a promise to hold the writer. */
  beforeWrite: (() => Promise<void> | void) | null = null;

  #queue: Uint8Array[] = [];
  #ended = false;
  #closed = false;
  #paused = false;
  #endSent = false;
  #deliveryScheduled = false;
  #onData: ((chunk: Uint8Array) => void) | null = null;
  #onEnd: (() => void) | null = null;
  readonly #buffer = new Uint8Array(READ_BUFFER_BYTES);
  #lent = 0;
  #closeWaiters: (() => void)[] = [];

  get closed(): boolean {
    return this.#closed;
  }

  /** Input chunks not yet delivered. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves once close() has been called. */
  whenClosed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#closeWaiters.push(resolve));
  }

  /** Queues input; chunks larger than the read buffer arrive in several deliveries. */
  push(chunk: Uint8Array): void {
    assert.ok(!this.#ended, "push after end");
    for (let p = 0; p < chunk.length; p += READ_BUFFER_BYTES) {
      this.#queue.push(chunk.slice(p, Math.min(p + READ_BUFFER_BYTES, chunk.length)));
    }
    this.#deliver();
  }

  /** Ends the input: once the queue is delivered, onEnd is called. */
  end(): void {
    this.#ended = true;
    this.#deliver();
  }

  start(onData: (chunk: Uint8Array) => void, onEnd: () => void): void {
    assert.equal(this.#onData, null, "start() twice");
    this.#onData = onData;
    this.#onEnd = onEnd;
    this.#deliver();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#deliver();
  }

  // Like a socket: input arrives later, in its own turn, while not paused.
  #deliver(): void {
    if (this.#deliveryScheduled || this.#onData === null) return;
    this.#deliveryScheduled = true;
    queueMicrotask(() => {
      this.#deliveryScheduled = false;
      while (!this.#paused && !this.#closed && this.#queue.length > 0) {
        this.readCalls++;
        this.#onData!(this.#lend(this.#queue.shift()!)!);
      }
      if ((this.#closed || (this.#ended && this.#queue.length === 0)) && !this.#endSent) {
        this.#endSent = true;
        this.#onEnd!();
      }
    });
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw new Error("socket closed");
    this.writes.push(bytes.slice());
    this.writtenBytes += bytes.length;
    if (this.beforeWrite !== null) await this.beforeWrite();
  }

  close(): void {
    this.closeCalls++;
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#deliver();
    for (const resolve of this.#closeWaiters.splice(0)) resolve();
  }

  /** Everything written so far, as one array. */
  output(): Uint8Array {
    return concat(this.writes);
  }

  /** Scribbles over the previous read's bytes, then lends `chunk` through the shared buffer. */
  #lend(chunk: Uint8Array | null): Uint8Array | null {
    this.#buffer.fill(0xee, 0, this.#lent);
    this.#lent = 0;
    if (chunk === null) return null;
    this.#buffer.set(chunk);
    this.#lent = chunk.length;
    return this.#buffer.subarray(0, chunk.length);
  }
}

// ------------------------------------------------------------------ scheduling

/** One turn of the event loop (after the connection's own setImmediate flushes queued before). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Several turns. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/** Waits until `ready()` holds, turning the event loop; fails after `ms`. */
export async function until(ready: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ready()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await turn();
  }
}

/** Resolves with `promise`'s outcome or "timeout" after `ms`, leaving no timer behind. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => timer = setTimeout(resolve, ms, "timeout"));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ the connection

/** Limits for in-process tests: small windows, nothing that fires by itself. */
export function testLimits(overrides: Partial<NativeLimits> = {}): NativeLimits {
  return {
    maxConcurrentStreams: 100,
    maxReceiveMessageBytes: 4 * 1024 * 1024,
    maxSendMessageBytes: 4 * 1024 * 1024,
    maxHeaderListBytes: 16384,
    initialWindowBytes: 65535,
    connectionWindowBytes: 1024 * 1024,
    maxFrameBytes: 16384,
    resetRate: 100,
    resetBurst: 1000,
    controlFrameRate: 1000,
    controlFrameBurst: 10_000,
    prefaceTimeout: 10_000,
    maxOutputBytes: 4 * 1024 * 1024,
    keepaliveTime: 7_200_000,
    keepaliveTimeout: 20_000,
    maxConnectionIdle: 0,
    maxConnectionAge: 0,
    maxConnectionAgeGrace: 0,
    compression: "identity",
    ...overrides,
  };
}

/** A connection on a FakeSocket, serving. */
export interface Harness {
  readonly socket: FakeSocket;
  readonly connection: Http2Connection;
  /** serve()'s outcome: "resolved", or the value it rejected with. */
  readonly served: Promise<"resolved" | { rejected: unknown }>;
  /** Lines logged at error level (the connection logs internal failures there). */
  readonly errors: string[];
  readonly onCloseCalls: () => number;
}

/** Starts a connection serving `routes` with `onCall`. */
export function startConnection(
  routes: readonly Route[],
  onCall: (call: TransportCall) => void,
  limits: NativeLimits = testLimits(),
  socket: FakeSocket = new FakeSocket(),
): Harness {
  const errors: string[] = [];
  let closes = 0;
  const connection = new Http2Connection(socket, {
    routes: new Map(routes.map((route) => [route.path, route])),
    onCall,
    limits,
    log: createLogger({ level: "error", write: (line) => errors.push(line) }),
    memory: unlimitedBudget(),
    inflation: new InflateGate(),
    timeReads: true,
    onClose: () => closes++,
  });
  const served = connection.serve().then(
    () => "resolved" as const,
    (rejected: unknown) => ({ rejected }),
  );
  return { socket, connection, served, errors, onCloseCalls: () => closes };
}

// ------------------------------------------------------------------ client frames

const EMPTY: Uint8Array = new Uint8Array(0);

/** One frame: 9-byte header and payload. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = EMPTY,
): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  out[0] = payload.length >>> 16;
  out[1] = (payload.length >>> 8) & 0xff;
  out[2] = payload.length & 0xff;
  out[3] = type;
  out[4] = flags;
  writeU32(out, 5, streamId);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** SETTINGS with `[id, value]` pairs. */
export function settings(pairs: readonly (readonly [number, number])[] = []): Uint8Array {
  const payload = new Uint8Array(pairs.length * 6);
  pairs.forEach(([id, value], i) => {
    payload[i * 6] = id >> 8;
    payload[i * 6 + 1] = id & 0xff;
    writeU32(payload, i * 6 + 2, value);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function settingsAck(): Uint8Array {
  return frame(FrameType.SETTINGS, Flag.ACK, 0);
}

export function windowUpdate(streamId: number, increment: number): Uint8Array {
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, u32(increment));
}

export function rstStream(streamId: number, code: number): Uint8Array {
  return frame(FrameType.RST_STREAM, 0, streamId, u32(code));
}

export function ping(payload: Uint8Array = new Uint8Array(8)): Uint8Array {
  return frame(FrameType.PING, 0, 0, payload);
}

export function goaway(lastStreamId: number, code: number): Uint8Array {
  return frame(FrameType.GOAWAY, 0, 0, concat([u32(lastStreamId), u32(code)]));
}

export function data(streamId: number, payload: Uint8Array, endStream = false): Uint8Array {
  return frame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId, payload);
}

/** HEADERS with END_HEADERS, the block already encoded. */
export function headers(streamId: number, block: Uint8Array, endStream = false): Uint8Array {
  const flags = Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0);
  return frame(FrameType.HEADERS, flags, streamId, block);
}

/** The request fields of a gRPC call to `path`, plus `extra`. */
export function requestFields(path: string, extra: HeaderField[] = []): HeaderField[] {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "localhost"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ...extra,
  ];
}

/**
 * An encoder whose blocks never use the dynamic table, so each block decodes on its own, in any
 * order. (The first block it would emit carries the size update; it is consumed here.)
 */
export function statelessEncoder(): HpackEncoder {
  const encoder = new HpackEncoder();
  encoder.setMaxTableSize(0);
  encoder.encode([]);
  return encoder;
}

/** A gRPC Length-Prefixed-Message. */
export function grpcMessage(body: Uint8Array, compressed = false): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = compressed ? 1 : 0;
  writeU32(out, 1, body.length);
  out.set(body, 5);
  return out;
}

/** Splits gRPC Length-Prefixed-Messages; asserts nothing is left over. */
export function grpcMessages(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < bytes.length) {
    assert.ok(bytes.length - p >= 5, "truncated gRPC message prefix");
    const length = readU32(bytes, p + 1);
    assert.ok(bytes.length - p - 5 >= length, "truncated gRPC message");
    out.push(bytes.slice(p + 5, p + 5 + length));
    p += 5 + length;
  }
  return out;
}

export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32(out, 0, value);
  return out;
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let p = 0;
  for (const chunk of chunks) {
    out.set(chunk, p);
    p += chunk.length;
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// ------------------------------------------------------------------ server frames

/** A parsed frame. */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

/** Frames in `bytes`, and the bytes of an incomplete frame at the end. */
export function parseFrames(bytes: Uint8Array): { frames: Frame[]; rest: number } {
  const frames: Frame[] = [];
  let p = 0;
  while (bytes.length - p >= FRAME_HEADER_BYTES) {
    const length = (bytes[p] << 16) | (bytes[p + 1] << 8) | bytes[p + 2];
    if (bytes.length - p - FRAME_HEADER_BYTES < length) break;
    frames.push({
      type: bytes[p + 3],
      flags: bytes[p + 4],
      streamId: readU32(bytes, p + 5) & 0x7fffffff,
      payload: bytes.slice(p + FRAME_HEADER_BYTES, p + FRAME_HEADER_BYTES + length),
    });
    p += FRAME_HEADER_BYTES + length;
  }
  return { frames, rest: bytes.length - p };
}

/** One decoded header block the server sent. */
export interface SentHeaders {
  streamId: number;
  fields: HeaderField[];
  endStream: boolean;
}

/** What the server said on one stream. */
export interface StreamOutput {
  /** Header blocks in order: response headers, then trailers (or one Trailers-Only block). */
  headers: HeaderField[][];
  data: Uint8Array[];
  dataBytes: number;
  endStream: boolean;
  rst: number | null;
}

/** The server's output, checked and summarized. */
export interface ServerOutput {
  frames: Frame[];
  settings: Frame[];
  settingsAcks: number;
  pingAcks: Uint8Array[];
  goaways: { lastStreamId: number; code: number; debug: string }[];
  /** WINDOW_UPDATE increments, by stream (0 = connection). */
  windowUpdates: { streamId: number; increment: number }[];
  streams: Map<number, StreamOutput>;
}

/**
 * Parses and checks everything a server wrote: a whole number of frames, each of a type and size
 * the server may send, on streams it may use, header blocks that decode in order with one HPACK
 * decoder, nothing on a stream after it ended, nothing after a GOAWAY with an error code.
 */
export function checkServerOutput(bytes: Uint8Array, maxFrameSize = 16384): ServerOutput {
  const { frames, rest } = parseFrames(bytes);
  assert.equal(rest, 0, "output ends in the middle of a frame");
  const decoder = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 1 << 24 });
  const out: ServerOutput = {
    frames,
    settings: [],
    settingsAcks: 0,
    pingAcks: [],
    goaways: [],
    windowUpdates: [],
    streams: new Map(),
  };
  const stream = (id: number): StreamOutput => {
    let s = out.streams.get(id);
    if (s === undefined) {
      s = { headers: [], data: [], dataBytes: 0, endStream: false, rst: null };
      out.streams.set(id, s);
    }
    return s;
  };
  let block: { streamId: number; endStream: boolean; chunks: Uint8Array[] } | null = null;
  let fatalGoaway = false;
  frames.forEach((f, i) => {
    const where = `frame ${i} (type ${f.type}, stream ${f.streamId}, ${f.payload.length} bytes)`;
    assert.ok(f.payload.length <= maxFrameSize, `${where}: larger than ${maxFrameSize}`);
    if (i === 0) {
      assert.ok(f.type === FrameType.SETTINGS && f.flags === 0, "first frame is not SETTINGS");
    }
    if (block !== null) {
      assert.ok(
        f.type === FrameType.CONTINUATION && f.streamId === block.streamId,
        `${where}: header block interrupted`,
      );
    }
    if (fatalGoaway) assert.equal(f.type, FrameType.GOAWAY, `${where}: after GOAWAY with error`);
    const onStream = () => {
      assert.ok(f.streamId !== 0 && f.streamId % 2 === 1, `${where}: bad stream id`);
    };
    const onConnection = () => assert.equal(f.streamId, 0, `${where}: must be on stream 0`);
    switch (f.type) {
      case FrameType.DATA: {
        onStream();
        const s = stream(f.streamId);
        assert.ok(!s.endStream && s.rst === null, `${where}: DATA after the stream ended`);
        assert.ok(s.headers.length === 1, `${where}: DATA without response headers`);
        assert.equal(f.flags & ~Flag.END_STREAM, 0, `${where}: unexpected DATA flags`);
        assert.equal(f.flags & Flag.END_STREAM, 0, `${where}: gRPC ends streams with trailers`);
        s.data.push(f.payload);
        s.dataBytes += f.payload.length;
        break;
      }
      case FrameType.HEADERS:
      case FrameType.CONTINUATION: {
        onStream();
        let s = stream(f.streamId);
        if (s.rst !== null && s.headers.length === 0 && f.type === FrameType.HEADERS) {
          // A reset of a stream the client had not opened yet (a bad PRIORITY frame is a stream
          // error even on an idle stream), then the client opens it: served as a new stream, as
          // Go's server does too.
          out.streams.delete(f.streamId);
          s = stream(f.streamId);
        }
        assert.ok(!s.endStream && s.rst === null, `${where}: HEADERS after the stream ended`);
        if (f.type === FrameType.HEADERS) {
          assert.equal(f.flags & (Flag.PADDED | Flag.PRIORITY), 0, `${where}: odd HEADERS flags`);
          block = {
            streamId: f.streamId,
            endStream: (f.flags & Flag.END_STREAM) !== 0,
            chunks: [],
          };
        } else assert.ok(block !== null, `${where}: CONTINUATION without HEADERS`);
        block!.chunks.push(f.payload);
        if ((f.flags & Flag.END_HEADERS) === 0) break;
        const whole = concat(block!.chunks);
        const endStream = block!.endStream;
        block = null;
        const decoded = decoder.decode(whole, 0, whole.length);
        const fields = decoded.fields;
        if (s.headers.length === 0) {
          assert.deepEqual(fields[0]?.[0], ":status", `${where}: response without :status first`);
        } else {
          assert.ok(endStream, `${where}: a second header block must end the stream`);
          assert.ok(
            fields.every(([n]) => !n.startsWith(":")),
            `${where}: pseudo-header in trailers`,
          );
        }
        if (endStream) {
          assert.ok(fields.some(([n]) => n === "grpc-status"), `${where}: no grpc-status`);
          s.endStream = true;
        }
        s.headers.push(fields);
        break;
      }
      case FrameType.RST_STREAM: {
        // Any stream: RFC 9113 makes a bad PRIORITY frame a stream error even on an idle stream.
        assert.notEqual(f.streamId, 0, `${where}: RST_STREAM on stream 0`);
        assert.equal(f.payload.length, 4, `${where}: RST_STREAM size`);
        const s = stream(f.streamId);
        if (s.rst === null) s.rst = readU32(f.payload, 0);
        break;
      }
      case FrameType.SETTINGS:
        onConnection();
        assert.equal(f.payload.length % 6, 0, `${where}: SETTINGS size`);
        if (f.flags & Flag.ACK) {
          assert.equal(f.payload.length, 0, `${where}: SETTINGS ACK with payload`);
          out.settingsAcks++;
        } else {
          assert.equal(i, 0, `${where}: SETTINGS sent twice`);
          out.settings.push(f);
        }
        break;
      case FrameType.PING:
        onConnection();
        assert.equal(f.payload.length, 8, `${where}: PING size`);
        if (f.flags & Flag.ACK) out.pingAcks.push(f.payload);
        break;
      case FrameType.GOAWAY: {
        onConnection();
        assert.ok(f.payload.length >= 8, `${where}: GOAWAY size`);
        const lastStreamId = readU32(f.payload, 0) & 0x7fffffff;
        const code = readU32(f.payload, 4);
        const previous = out.goaways.at(-1);
        if (previous !== undefined) {
          assert.ok(lastStreamId <= previous.lastStreamId, `${where}: GOAWAY last-stream-id grew`);
        }
        out.goaways.push({
          lastStreamId,
          code,
          debug: new TextDecoder().decode(f.payload.subarray(8)),
        });
        if (code !== 0) fatalGoaway = true;
        break;
      }
      case FrameType.WINDOW_UPDATE: {
        assert.equal(f.payload.length, 4, `${where}: WINDOW_UPDATE size`);
        assert.ok(f.streamId === 0 || f.streamId % 2 === 1, `${where}: bad stream id`);
        const increment = readU32(f.payload, 0) & 0x7fffffff;
        assert.ok(increment > 0, `${where}: WINDOW_UPDATE with increment 0 (RFC 9113 §6.9)`);
        out.windowUpdates.push({ streamId: f.streamId, increment });
        break;
      }
      default:
        assert.fail(`${where}: a server never sends this type`);
    }
  });
  assert.equal(block, null, "output ends inside a header block");
  return out;
}

/** The value of header `name` in `fields`. */
export function field(
  fields: readonly HeaderField[] | undefined,
  name: string,
): string | undefined {
  return fields?.find(([n]) => n === name)?.[1];
}

const TYPE_NAMES = [
  "DATA",
  "HEADERS",
  "PRIORITY",
  "RST_STREAM",
  "SETTINGS",
  "PUSH_PROMISE",
  "PING",
  "GOAWAY",
  "WINDOW_UPDATE",
  "CONTINUATION",
];

/** Frames as text lines, for failure reports; `skip` bytes (a preface) are shown as such. */
export function describeFrames(bytes: Uint8Array, skip = 0): string {
  const { frames, rest } = parseFrames(bytes.subarray(skip));
  const lines = skip > 0 ? [`<${skip} preface bytes>`] : [];
  for (const f of frames) {
    const hexPayload = Array.from(f.payload.subarray(0, 48), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    lines.push(
      `${TYPE_NAMES[f.type] ?? `type ${f.type}`} flags=0x${f.flags.toString(16)} ` +
        `stream=${f.streamId} len=${f.payload.length} ${hexPayload}${
          f.payload.length > 48 ? "…" : ""
        }`,
    );
  }
  if (rest > 0) lines.push(`<${rest} bytes of an incomplete frame>`);
  return lines.join("\n");
}
