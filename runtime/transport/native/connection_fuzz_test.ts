// Fuzzing Http2Connection over an in-memory socket: random frames and mutated valid sessions.
// Every session must end with serve() resolved, the socket closed, no stream left, nothing
// logged at error level (internal failures), no unhandled rejection, output that parses as a
// well-formed server frame sequence, and output bounded by the input (no amplification loop).
// Failures name the seed; FUZZ_SEED=<seed> reruns that one session alone.
import assert from "node:assert/strict";
import type { CallStatus, Route, TransportCall } from "../types.ts";
import { Flag, FrameType, Setting } from "./frame.ts";
import { type HeaderField, HpackEncoder } from "./hpack/mod.ts";
import {
  checkServerOutput,
  concat,
  data,
  describeFrames,
  field,
  frame,
  goaway,
  grpcMessage,
  grpcMessages,
  headers,
  mulberry32,
  ping,
  PREFACE,
  randInt,
  randomBytes,
  requestFields,
  rstStream,
  settings,
  settingsAck,
  startConnection,
  statelessEncoder,
  testLimits,
  turn,
  turns,
  u32,
  until,
  utf8,
  windowUpdate,
  within,
} from "./_testing.ts";

const ROUTES: Route[] = [
  { path: "/fuzz.Echo/Unary", kind: "unary" },
  { path: "/fuzz.Echo/ServerStream", kind: "server_stream" },
  { path: "/fuzz.Echo/ClientStream", kind: "client_stream" },
  { path: "/fuzz.Echo/Bidi", kind: "bidi_stream" },
];
const UNKNOWN_PATH = "/fuzz.Echo/Missing";
const OK: CallStatus = { code: 0, message: "", trailers: null };
/** Small windows and limits, so fuzzed input reaches flow control and floods quickly. */
const LIMITS = testLimits({
  maxConcurrentStreams: 8,
  maxReceiveMessageBytes: 4096,
  maxHeaderListBytes: 2048,
  connectionWindowBytes: 65535,
  resetBurst: 20,
  controlFrameBurst: 50,
});
const PARALLEL = 50;
const SINGLE_SEED = Deno.env.get("FUZZ_SEED");

/** The handlers: echoes that never produce more than a small multiple of their input. */
async function handle(call: TransportCall): Promise<void> {
  try {
    switch (call.route.kind) {
      case "unary": {
        const request = call.request!;
        if (request[0] === 0xff) {
          call.end({ code: 3, message: "bad request \u00e9\n%", trailers: null });
        } else call.end(OK, request);
        break;
      }
      case "server_stream": {
        const request = call.request!;
        for (let i = 0; i < request.length % 4; i++) await call.write(request);
        call.end(OK);
        break;
      }
      case "client_stream": {
        let bytes = 0;
        for await (const message of call.requests()) bytes += message.length;
        call.end(OK, u32(bytes));
        break;
      }
      case "bidi_stream":
        for await (const message of call.requests()) await call.write(message);
        call.end(OK);
        break;
    }
  } catch (error) {
    // A cancelled call's request stream throws its AbortError; anything else is a failure.
    if (!(error instanceof DOMException && error.name === "AbortError")) throw error;
  }
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Feeds `input` to a new connection in random chunks, then ends it (EOF, close() or drain()),
 * and checks everything the session must guarantee. Returns the checked output.
 */
async function runSession(input: Uint8Array, rand: () => number, seed: number) {
  const handlers: Promise<void>[] = [];
  const h = startConnection(ROUTES, (call) => handlers.push(handle(call)), LIMITS);
  // A slow reader now and then: writes take a turn, so output piles up behind them.
  if (rand() < 0.2) h.socket.beforeWrite = turn;
  const chunking = randInt(rand, 4);
  for (let p = 0; p < input.length;) {
    const n = chunking === 0 ? input.length : 1 + randInt(rand, [0, 4, 64, 1024][chunking]);
    h.socket.push(input.subarray(p, p + n));
    p += n;
    if (rand() < 0.3) await turn();
  }
  await turns(1 + randInt(rand, 4));
  const ending = randInt(rand, 3);
  if (ending === 1) h.connection.close();
  else if (ending === 2) void h.connection.drain();
  h.socket.end();

  const context = () => `seed ${seed}, ending ${ending}, input ${hex(input)}`;
  try {
    assert.equal(await within(h.served, 3000), "resolved", "serve() did not resolve");
    assert.notEqual(await within(Promise.all(handlers), 3000), "timeout", "handlers hang");
    assert.ok(h.socket.closed, "socket not closed");
    assert.equal(h.onCloseCalls(), 1, "onClose calls");
    assert.equal(h.connection.activeStreams, 0, "streams left open");
    assert.deepEqual(h.errors, [], "internal errors were logged");
    const out = checkServerOutput(h.socket.output());
    const bound = 64 * 1024 + 10 * input.length;
    assert.ok(h.socket.writtenBytes <= bound, `wrote ${h.socket.writtenBytes} > ${bound}`);
    return out;
  } catch (error) {
    if (SINGLE_SEED !== undefined) {
      const preface = hex(input.subarray(0, PREFACE.length)) === hex(PREFACE) ? PREFACE.length : 0;
      console.error(`input:\n${describeFrames(input, preface)}`);
      console.error(`output:\n${describeFrames(h.socket.output())}`);
    }
    throw new Error(`${context()}: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
}

/** Runs `count` sessions, `PARALLEL` at a time, failing on any unhandled rejection or error. */
async function fuzz(
  count: number,
  baseSeed: number,
  session: (rand: () => number, seed: number) => Promise<unknown>,
): Promise<void> {
  const stray: unknown[] = [];
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    stray.push(event.reason);
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    stray.push(event.error);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  try {
    const seeds = SINGLE_SEED !== undefined
      ? [Number(SINGLE_SEED)]
      : Array.from({ length: count }, (_, i) => baseSeed + i);
    for (let i = 0; i < seeds.length; i += PARALLEL) {
      await Promise.all(
        seeds.slice(i, i + PARALLEL).map((seed) => session(mulberry32(seed), seed)),
      );
    }
    // Rejections are reported a turn after they happen.
    await turns(2);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
  }
  assert.deepEqual(stray, [], "unhandled rejections or uncaught errors");
}

// ------------------------------------------------------------------ random frames

const FLAGS = [0, 0x1, 0x4, 0x5, 0x8, 0x9, 0x20, 0x24, 0x25, 0x2c, 0x2d];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[randInt(rand, items.length)];
}

/** A request header block, sometimes with a twist. */
function requestBlock(rand: () => number, encoder: HpackEncoder): Uint8Array {
  const path = rand() < 0.9 ? pick(rand, ROUTES).path : UNKNOWN_PATH;
  const extra: HeaderField[] = [];
  const r = rand();
  if (r < 0.05) extra.push(["grpc-timeout", pick(rand, ["1S", "10m", "0n", "x", "999999999H"])]);
  else if (r < 0.1) extra.push(["grpc-encoding", pick(rand, ["gzip", "br", "identity"])]);
  else if (r < 0.15) extra.push(["x-big", "v".repeat(randInt(rand, 3000))]);
  else if (r < 0.2) extra.push(["connection", "close"]);
  let fields = requestFields(path, extra);
  if (rand() < 0.1) fields = fields.filter(() => rand() < 0.8);
  if (rand() < 0.05) fields = [["x-a", "1"], ...fields];
  if (rand() < 0.05) fields = fields.map(([n, v]) => [n, n === ":method" ? "GET" : v]);
  return encoder.encode(fields);
}

function randomPayload(rand: () => number, type: number, encoder: HpackEncoder): Uint8Array {
  switch (rand() < 0.7 ? type : -1) {
    case FrameType.HEADERS:
    case FrameType.CONTINUATION:
      return requestBlock(rand, encoder);
    case FrameType.DATA: {
      const body = randomBytes(rand, randInt(rand, 40));
      if (rand() < 0.1 && body.length > 0) body[0] = 0xff;
      return rand() < 0.8 ? grpcMessage(body, rand() < 0.05) : body;
    }
    case FrameType.SETTINGS: {
      const pairs: [number, number][] = [];
      for (let i = randInt(rand, 3); i > 0; i--) {
        pairs.push([
          randInt(rand, 8),
          pick(rand, [0, 1, 10, 4096, 16384, 16385, 65535, 0x7fffffff, 0x80000000, 0xffffffff]),
        ]);
      }
      return settings(pairs).subarray(9);
    }
    case FrameType.WINDOW_UPDATE:
    case FrameType.RST_STREAM:
      return u32(
        pick(rand, [0, 1, 8, 1000, 65535, 0x7fffffff, 0x80000000, randInt(rand, 2 ** 32)]),
      );
    case FrameType.PING:
      return randomBytes(rand, 8);
    case FrameType.GOAWAY:
      return concat([u32(randInt(rand, 10)), u32(randInt(rand, 14)), randomBytes(rand, 4)]);
    case FrameType.PRIORITY:
      return concat([u32(randInt(rand, 10)), new Uint8Array([randInt(rand, 256)])]);
    default:
      return randomBytes(rand, randInt(rand, 48));
  }
}

/** What the random client has opened, so that many of its frames make sense. */
interface RandomClient {
  readonly encoder: HpackEncoder;
  nextId: number;
  open: number[];
}

/** A frame that a client could well send now, or nearly. */
function plausibleFrame(rand: () => number, client: RandomClient): Uint8Array {
  const r = rand();
  const streamId = client.open.length > 0 && rand() < 0.9 ? pick(rand, client.open) : client.nextId;
  const close = () => client.open = client.open.filter((id) => id !== streamId);
  if (r < 0.3 || client.open.length === 0) {
    const id = client.nextId;
    client.nextId += rand() < 0.9 ? 2 : 1;
    const endStream = rand() < 0.1;
    if (!endStream) client.open.push(id);
    return headers(id, requestBlock(rand, client.encoder), endStream);
  }
  if (r < 0.65) {
    const endStream = rand() < 0.3;
    if (endStream) close();
    const payload = randomPayload(rand, FrameType.DATA, client.encoder);
    return data(streamId, payload, endStream);
  }
  if (r < 0.75) {
    const target = rand() < 0.5 ? 0 : streamId;
    return windowUpdate(target, pick(rand, [1, 10, 1000, 65535, 1 << 20]));
  }
  if (r < 0.8) return ping(randomBytes(rand, 8));
  if (r < 0.85) {
    return frame(FrameType.SETTINGS, 0, 0, randomPayload(rand, FrameType.SETTINGS, client.encoder));
  }
  if (r < 0.9) {
    close();
    return rstStream(streamId, randInt(rand, 14));
  }
  if (r < 0.95) {
    return frame(
      FrameType.PRIORITY,
      0,
      streamId,
      concat([u32(randInt(rand, 8)), u32(0).subarray(0, 1)]),
    );
  }
  close();
  return headers(streamId, client.encoder.encode([["x-trailer", "t"]]), true);
}

/** A frame of random type, flags, stream and (mostly type-shaped) payload. */
function randomFrame(rand: () => number, client: RandomClient): Uint8Array {
  if (rand() < 0.75) return plausibleFrame(rand, client);
  const type = rand() < 0.95 ? randInt(rand, 10) : randInt(rand, 256);
  let flags = rand() < 0.7 ? pick(rand, FLAGS) : randInt(rand, 256);
  if (type === FrameType.HEADERS && rand() < 0.6) flags = Flag.END_HEADERS | (flags & 1);
  const r = rand();
  const streamId = r < 0.15
    ? 0
    : r < 0.5 && client.open.length > 0
    ? pick(rand, client.open)
    : r < 0.9
    ? 1 + 2 * randInt(rand, 6)
    : randInt(rand, 2 ** 31);
  let payload = randomPayload(rand, type, client.encoder);
  if (flags & Flag.PADDED && rand() < 0.5) {
    payload = concat([
      new Uint8Array([randInt(rand, 8)]),
      payload,
      new Uint8Array(randInt(rand, 8)),
    ]);
  }
  const bytes = frame(type, flags, streamId, payload);
  // A lying length field now and then.
  if (rand() < 0.05) {
    const length = pick(rand, [0, 1, 16384, 16385, randInt(rand, 1 << 24), payload.length + 1]);
    bytes[0] = length >>> 16;
    bytes[1] = (length >>> 8) & 0xff;
    bytes[2] = length & 0xff;
  }
  return bytes;
}

Deno.test("fuzz: random bytes and random frames after a valid preface and SETTINGS", async () => {
  await fuzz(5000, 1_000_000, async (rand, seed) => {
    const client: RandomClient = { encoder: statelessEncoder(), nextId: 1, open: [] };
    const parts = [PREFACE, settings()];
    if (rand() < 0.1) {
      parts.push(randomBytes(rand, randInt(rand, 256)));
    } else {
      for (let n = 1 + randInt(rand, 24); n > 0; n--) parts.push(randomFrame(rand, client));
      if (rand() < 0.2) parts.push(randomBytes(rand, randInt(rand, 32)));
    }
    await runSession(concat(parts), rand, seed);
  });
});

// ------------------------------------------------------------------ mutated sessions

interface Call {
  route: string;
  /**
   * Frames, each group sent back to back (HEADERS and its CONTINUATION stay together). Header
   * blocks are functions: the stateful encoder must encode them in the order they are sent.
   */
  groups: (Uint8Array[] | (() => Uint8Array[]))[];
  expect: "ok" | "unimplemented" | "reset";
}

/**
 * A valid session of several calls, interleaved at random, with the connection-level frames a
 * real client sends. The HPACK encoder is stateful, as a real client's is.
 */
function validSession(rand: () => number): { frames: Uint8Array[]; calls: Map<number, Call> } {
  const encoder = new HpackEncoder();
  const block = (path: string, extra: HeaderField[] = []) =>
    encoder.encode(requestFields(path, extra));
  const message = (text: string) => grpcMessage(utf8(text));
  const kinds = ["unary", "server", "client", "bidi", "unknown", "cancel"] as const;
  const chosen = Array.from({ length: 2 + randInt(rand, 5) }, () => pick(rand, kinds));
  const calls = new Map<number, Call>();
  const frames: Uint8Array[] = [
    PREFACE,
    settings([
      [Setting.INITIAL_WINDOW_SIZE, pick(rand, [10, 100, 65535])],
      [Setting.HEADER_TABLE_SIZE, pick(rand, [0, 256, 4096])],
      [Setting.ENABLE_PUSH, 0],
    ]),
    settingsAck(),
  ];
  chosen.forEach((kind, i) => {
    const id = 1 + 2 * i;
    const open = (path: string, extra: HeaderField[] = []) => () => {
      const b = block(path, extra);
      if (b.length < 8 || rand() < 0.5) return [headers(id, b)];
      // HEADERS + CONTINUATION.
      const cut = 1 + randInt(rand, b.length - 1);
      return [
        frame(FrameType.HEADERS, 0, id, b.subarray(0, cut)),
        frame(FrameType.CONTINUATION, Flag.END_HEADERS, id, b.subarray(cut)),
      ];
    };
    const credit = [windowUpdate(id, 100_000)];
    const m = message(`call ${id} ${kind}`);
    switch (kind) {
      case "unary":
        calls.set(id, {
          route: ROUTES[0].path,
          expect: "ok",
          groups: [open(ROUTES[0].path), credit, [data(id, m, true)]],
        });
        break;
      case "server":
        calls.set(id, {
          route: ROUTES[1].path,
          expect: "ok",
          groups: [open(ROUTES[1].path, [["grpc-timeout", "5S"]]), credit, [data(id, m, true)]],
        });
        break;
      case "client":
        calls.set(id, {
          route: ROUTES[2].path,
          expect: "ok",
          groups: [
            open(ROUTES[2].path, [["x-user", "fuzz"]]),
            credit,
            [data(id, m.subarray(0, 3))],
            [data(id, m.subarray(3))],
            // A padded DATA frame.
            [frame(FrameType.DATA, Flag.PADDED, id, concat([new Uint8Array([4]), m, u32(0)]))],
            [data(id, new Uint8Array(0), true)],
          ],
        });
        break;
      case "bidi":
        calls.set(id, {
          route: ROUTES[3].path,
          expect: "ok",
          groups: [
            open(ROUTES[3].path),
            credit,
            [data(id, m)],
            [frame(FrameType.PRIORITY, 0, id, concat([u32(0), new Uint8Array([16])]))],
            [data(id, m)],
            () => [headers(id, encoder.encode([["x-trailer", "t"]]), true)],
          ],
        });
        break;
      case "unknown":
        calls.set(id, {
          route: UNKNOWN_PATH,
          expect: "unimplemented",
          groups: [open(UNKNOWN_PATH), [data(id, m, true)]],
        });
        break;
      case "cancel":
        calls.set(id, {
          route: ROUTES[2].path,
          expect: "reset",
          groups: [open(ROUTES[2].path), [data(id, m)], [rstStream(id, 0x8)]],
        });
        break;
    }
  });
  // Interleave: calls open in stream order, each call's groups stay in order.
  const cursors = [...calls.keys()].map((id) => ({ id, next: 0 }));
  let opened = 0;
  while (cursors.some((c) => c.next < calls.get(c.id)!.groups.length)) {
    const ready = cursors.filter((c, i) =>
      c.next < calls.get(c.id)!.groups.length && (c.next > 0 || i === opened)
    );
    const c = pick(rand, ready);
    if (c.next === 0) opened++;
    const group = calls.get(c.id)!.groups[c.next++];
    frames.push(...(typeof group === "function" ? group() : group));
    if (rand() < 0.15) frames.push(ping(randomBytes(rand, 8)));
    if (rand() < 0.1) frames.push(windowUpdate(0, 1 + randInt(rand, 10_000)));
  }
  // A client that is done says so now and then: the server finishes the calls, then closes.
  if (rand() < 0.2) frames.push(goaway(0, 0));
  return { frames, calls };
}

function setLength(frameBytes: Uint8Array, length: number): void {
  frameBytes[0] = length >>> 16;
  frameBytes[1] = (length >>> 8) & 0xff;
  frameBytes[2] = length & 0xff;
}

/** One to four mutations of the session: frame-level first, then byte-level. */
function mutate(rand: () => number, session: Uint8Array[]): Uint8Array {
  // Frame 0 is the preface: mutated only by the byte-level pass.
  const frames = session.map((f) => f.slice());
  for (let n = 1 + randInt(rand, 4); n > 0; n--) {
    const i = 1 + randInt(rand, frames.length - 1);
    switch (randInt(rand, 7)) {
      case 0: // duplicate a frame
        frames.splice(1 + randInt(rand, frames.length - 1), 0, frames[i].slice());
        break;
      case 1: // drop a frame
        if (frames.length > 2) frames.splice(i, 1);
        break;
      case 2: { // swap two frames
        const j = 1 + randInt(rand, frames.length - 1);
        [frames[i], frames[j]] = [frames[j], frames[i]];
        break;
      }
      case 3: { // a random length field
        const length = frames[i].length - 9;
        setLength(
          frames[i],
          pick(rand, [
            0,
            Math.max(0, length - 1 - randInt(rand, 4)),
            length + 1 + randInt(rand, 4),
            16384,
            16385,
            randInt(rand, 1 << 24),
          ]),
        );
        break;
      }
      case 4: // flip a flag bit
        frames[i][4] ^= 1 << randInt(rand, 8);
        break;
      case 5: // change the stream id
        frames[i][8] = pick(rand, [0, 1, 2, 3, 5, 7, 9, 11, 255]);
        break;
      case 6: // flip a type bit
        frames[i][3] ^= 1 << randInt(rand, 4);
        break;
    }
  }
  let bytes = concat(frames);
  for (let n = randInt(rand, 3); n > 0; n--) {
    // Mostly past the preface, where the frames are.
    const at = rand() < 0.95
      ? PREFACE.length + randInt(rand, Math.max(1, bytes.length - PREFACE.length))
      : randInt(rand, bytes.length);
    switch (randInt(rand, 5)) {
      case 0:
      case 1: // bit flips
        if (at < bytes.length) bytes[at] ^= 1 << randInt(rand, 8);
        break;
      case 2: // truncate
        bytes = bytes.slice(0, at);
        break;
      case 3: { // duplicate a byte range
        const length = 1 + randInt(rand, 64);
        bytes = concat([bytes.subarray(0, at + length), bytes.subarray(at)]);
        break;
      }
      case 4: // insert random bytes
        bytes = concat([
          bytes.subarray(0, at),
          randomBytes(rand, 1 + randInt(rand, 16)),
          bytes.subarray(at),
        ]);
        break;
    }
  }
  return bytes;
}

Deno.test("fuzz: the unmutated multi-call session completes every call", async () => {
  await fuzz(200, 2_000_000, async (rand, seed) => {
    const { frames, calls } = validSession(rand);
    const handlers: Promise<void>[] = [];
    const h = startConnection(ROUTES, (call) => handlers.push(handle(call)), LIMITS);
    h.socket.push(concat(frames));
    const ended = (out: ReturnType<typeof checkServerOutput>, id: number) => {
      const s = out.streams.get(id);
      return calls.get(id)!.expect === "reset" || s?.endStream === true;
    };
    try {
      await until(() => {
        const out = checkServerOutput(h.socket.output());
        return [...calls.keys()].every((id) => ended(out, id));
      }, `every call of seed ${seed}`);
    } catch (error) {
      if (SINGLE_SEED !== undefined) {
        console.error(`input:\n${describeFrames(concat(frames.slice(1)))}`);
        console.error(`output:\n${describeFrames(h.socket.output())}`);
      }
      h.connection.close();
      throw error;
    }
    await Promise.all(handlers);
    h.socket.end();
    assert.equal(await within(h.served, 3000), "resolved");
    const out = checkServerOutput(h.socket.output());
    assert.deepEqual(out.goaways, [], `seed ${seed}`);
    assert.deepEqual(h.errors, []);
    for (const [id, call] of calls) {
      const s = out.streams.get(id);
      const status = field(s?.headers.at(-1), "grpc-status");
      if (call.expect === "ok") {
        assert.equal(status, "0", `seed ${seed}, stream ${id} ${call.route}`);
        assert.doesNotThrow(() => grpcMessages(concat(s!.data)));
      } else if (call.expect === "unimplemented") {
        assert.equal(status, "12", `seed ${seed}, stream ${id}`);
      }
    }
  });
});

Deno.test("fuzz: mutations of a valid multi-call session", async () => {
  await fuzz(5000, 3_000_000, async (rand, seed) => {
    const { frames } = validSession(rand);
    await runSession(mutate(rand, frames), rand, seed);
  });
});
