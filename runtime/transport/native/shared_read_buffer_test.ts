/**
 * The shared read buffer over real loopback sockets: that Deno 2.8.3's
 * node:net takes it (if an upgrade drops the fields it relies on, the
 * first test says so), that each connection still gets its own bytes in
 * order, and that pausing and the peer's end work as with Deno's buffers.
 * @module
 */
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { nodeSocket } from "./socket.ts";
import { concat } from "./_testing.ts";

/** A listener whose accepted sockets are handed out in order. */
async function listener(): Promise<{ port: number; accept(): Promise<Socket>; close(): void }> {
  const waiting: ((socket: Socket) => void)[] = [];
  const early: Socket[] = [];
  const server = createServer((socket) => {
    const next = waiting.shift();
    if (next) next(socket);
    else early.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    accept: () =>
      early.length > 0
        ? Promise.resolve(early.shift()!)
        : new Promise((resolve) => waiting.push(resolve)),
    close: () => server.close(),
  };
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const client: Socket = connect(port, "127.0.0.1", () => resolve(client));
  });
}

/** Collects a ByteSocket's input, copying each chunk as ByteSocket's contract asks. */
function collector() {
  const chunks: Uint8Array[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const ended = Promise.withResolvers<void>();
  return {
    onData(chunk: Uint8Array) {
      buffers.add(chunk.buffer);
      chunks.push(chunk.slice());
    },
    onEnd: () => ended.resolve(),
    ended: ended.promise,
    buffers,
    text: () => new TextDecoder().decode(concat(chunks)),
  };
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("two connections read into one buffer and each gets its own bytes, in order", async () => {
  const server = await listener();
  const [clientA, clientB] = [await dial(server.port), await dial(server.port)];
  const [a, b] = [collector(), collector()];
  nodeSocket(await server.accept(), null, true).start(a.onData, a.onEnd);
  nodeSocket(await server.accept(), null, true).start(b.onData, b.onEnd);
  let expectA = "";
  let expectB = "";
  for (let i = 0; i < 50; i++) {
    const [lineA, lineB] = [`a${i};`.repeat(i + 1), `b${i}.`.repeat(50 - i)];
    clientA.write(lineA);
    clientB.write(lineB);
    expectA += lineA;
    expectB += lineB;
    if (i % 10 === 0) await tick(5);
  }
  clientA.end();
  clientB.end();
  await Promise.all([a.ended, b.ended]);
  assert.equal(a.text(), expectA);
  assert.equal(b.text(), expectB);
  const buffers = new Set([...a.buffers, ...b.buffers]);
  assert.equal(buffers.size, 1, "every read of both connections landed in one buffer");
  assert.equal([...buffers][0].byteLength, 64 * 1024);
  server.close();
});

Deno.test("a paused socket on the shared buffer delivers nothing until resumed, then all of it", async () => {
  const server = await listener();
  const client = await dial(server.port);
  const input = collector();
  const socket = nodeSocket(await server.accept(), null, true);
  socket.start(input.onData, input.onEnd);
  client.write("before;");
  await tick();
  socket.pause();
  client.write("while paused;");
  await tick(100);
  assert.equal(input.text(), "before;");
  socket.resume();
  client.end("after");
  await input.ended;
  assert.equal(input.text(), "before;while paused;after");
  socket.close();
  server.close();
});
