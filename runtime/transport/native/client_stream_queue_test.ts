// How a client stream's messages reach the handler (call_requests.ts #queue): whole messages in a
// row are queued as one copy per DATA frame and cut when taken; the rest (a prefix or a body split
// across frames, compressed messages) must arrive just the same, intact and in order.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import type { Route } from "../types.ts";
import {
  checkServerOutput,
  concat,
  data,
  field,
  grpcMessage,
  grpcMessages,
  type Harness,
  headers,
  PREFACE,
  requestFields,
  settings,
  startConnection,
  statelessEncoder,
  turns,
  until,
  utf8,
  within,
} from "./_testing.ts";

const CLIENT_STREAM: Route = { path: "/test.Echo/ClientStream", kind: "client_stream" };

/** `n` bytes of `fill`, so a message's bytes say which message they belong to. */
function filled(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** The client goes away; the connection closes cleanly, with no error logged. */
async function finish(h: Harness): Promise<void> {
  h.socket.end();
  assert.equal(await within(h.served, 3000), "resolved");
  assert.equal(h.connection.activeStreams, 0);
  assert.deepEqual(h.errors, []);
  await turns(2);
}

/** What the handler saw: each message as `length:first byte`, in order. */
function summary(messages: Uint8Array[]): string {
  return messages.map((m) => `${m.length}:${m[0] ?? "-"}`).join(",");
}

Deno.test("client streaming: runs, split prefixes and bodies, large, empty and compressed messages arrive intact and in order", async () => {
  const received: Uint8Array[] = [];
  const h = startConnection([CLIENT_STREAM], async (call) => {
    for await (const message of call.requests()) received.push(message.slice());
    call.end({ code: 0, message: "", trailers: null }, utf8(summary(received)));
  });
  const sent = [
    filled(3, 1),
    filled(0, 0),
    filled(1500, 2), // over SMALL_MESSAGE_BYTES: the run gets its own copy
    filled(7, 3), // compressed, in the middle of a run
    filled(5, 4), // its prefix split across frames
    filled(4000, 5), // its body split across frames
    filled(2, 6),
    filled(9, 7),
  ];
  const wire = sent.map((m, i) => i === 3 ? grpcMessage(gzipSync(m), true) : grpcMessage(m));
  const stream = concat(wire);
  // Cut inside message 4's prefix, then inside message 5's body.
  const cut1 = wire.slice(0, 4).reduce((n, m) => n + m.length, 0) + 2;
  const cut2 = wire.slice(0, 5).reduce((n, m) => n + m.length, 0) + 5 + 1000;
  const encoder = statelessEncoder();
  h.socket.push(concat([
    PREFACE,
    settings(),
    headers(1, encoder.encode(requestFields(CLIENT_STREAM.path, [["grpc-encoding", "gzip"]]))),
    data(1, stream.subarray(0, cut1)),
    data(1, stream.subarray(cut1, cut2)),
    data(1, stream.subarray(cut2), true),
  ]));
  await until(
    () => checkServerOutput(h.socket.output()).streams.get(1)?.endStream === true,
    "the response",
  );
  const out = checkServerOutput(h.socket.output()).streams.get(1)!;
  assert.equal(field(out.headers.at(-1), "grpc-status"), "0");
  assert.deepEqual(grpcMessages(concat(out.data)), [utf8(summary(sent))]);
  assert.deepEqual(received, sent, "every byte of every message");
  await finish(h);
});

Deno.test("client streaming: a message taken from a run stays intact after later reads reuse the socket's buffer", async () => {
  const taken: Uint8Array[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const h = startConnection([CLIENT_STREAM], async (call) => {
    const requests = call.requests()[Symbol.asyncIterator]();
    taken.push((await requests.next()).value); // kept as handed over, no copy
    await gate;
    for (let r = await requests.next(); !r.done; r = await requests.next()) taken.push(r.value);
    call.end({ code: 0, message: "", trailers: null }, utf8(String(taken.length)));
  });
  const encoder = statelessEncoder();
  h.socket.push(concat([
    PREFACE,
    settings(),
    headers(1, encoder.encode(requestFields(CLIENT_STREAM.path))),
    data(1, concat([grpcMessage(filled(10, 1)), grpcMessage(filled(10, 2))])),
  ]));
  await until(() => taken.length === 1, "the first message");
  // FakeSocket scribbles over its read buffer before each read.
  h.socket.push(data(1, concat([grpcMessage(filled(10, 3)), grpcMessage(filled(10, 4))]), true));
  release();
  await until(
    () => checkServerOutput(h.socket.output()).streams.get(1)?.endStream === true,
    "the response",
  );
  assert.deepEqual(taken, [filled(10, 1), filled(10, 2), filled(10, 3), filled(10, 4)]);
  await finish(h);
});
