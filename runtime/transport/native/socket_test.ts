/**
 * nodeSocket over real loopback sockets: what a socket that closed after a
 * failed write still holds. Deno 2.8.3 keeps such sockets reachable, so
 * anything they hold leaks for the life of the process.
 * @module
 */
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type ByteSocket, nodeSocket } from "./socket.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** An onData holding `reader` itself (not the test's variable), as a connection's does. */
function deliverTo(reader: { onData(chunk: Uint8Array): void }) {
  return (chunk: Uint8Array) => reader.onData(chunk);
}

/** A connected pair: the server side raw, the client side to misbehave with. */
async function socketPair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const accepted = Promise.withResolvers<Socket>();
  const listener = createServer((socket) => accepted.resolve(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as { port: number };
  const client = connect(port, "127.0.0.1");
  client.on("error", () => {});
  const server = await accepted.promise;
  return {
    server,
    client,
    close() {
      client.destroy();
      listener.close();
    },
  };
}

for (const shared of [false, true]) {
  const reads = shared ? "the shared read buffer" : "its own read buffers";
  Deno.test(`a socket whose write failed lets go of its reader, its error and the written buffer (${reads})`, async () => {
    const pair = await socketPair();
    // Dropped below, as a closed connection drops its socket: then only Deno's keeps a reference.
    let socket: ByteSocket | null = nodeSocket(pair.server, null, shared);
    const ended = Promise.withResolvers<void>();
    let reader: { onData(chunk: Uint8Array): void } | null = { onData() {} };
    const readerGone = new WeakRef(reader);
    socket.start(deliverTo(reader), () => ended.resolve());

    // The client never reads, so the kernel buffers fill and the writes wait;
    // then it closes with unread data, which resets the connection and fails them.
    let output: Uint8Array | null = new Uint8Array(4 << 20);
    const outputGone = new WeakRef(output.buffer);
    // Only whether they failed is kept: the errors themselves hold the buffer.
    const writes = [socket.write(output), socket.write(output)].map((w) =>
      w.then(() => 0, () => 1)
    );
    const closed = new Promise((resolve) => pair.server.once("close", resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    pair.client.write("x");
    pair.client.resetAndDestroy();
    const failed = (await Promise.all(writes)).reduce((a: number, b) => a + b, 0);
    assert.ok(failed > 0, "a write failed");
    await ended.promise;
    socket.close();
    await closed;

    output = null;
    reader = null;
    socket = null;
    // WeakRefs hold until the current job ends; collect on a later turn.
    for (let i = 0; i < 5 && (outputGone.deref() || readerGone.deref()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      gc();
    }
    // `pair.server` is still reachable here, as Deno keeps it: it must not keep these.
    assert.equal(pair.server.listenerCount("data"), 0);
    // Nor its error: once Deno has attached the stack's call sites to it, it
    // holds whatever those frames' receivers hold, the failed write included.
    const { _readableState, _writableState } = pair.server as unknown as Record<
      "_readableState" | "_writableState",
      { errored: unknown }
    >;
    assert.equal(_readableState.errored, null);
    assert.equal(_writableState.errored, null);
    assert.ok(readerGone.deref() === undefined, "the closed socket still reaches its reader");
    assert.ok(
      outputGone.deref() === undefined,
      "the closed socket still holds the failed write's buffer",
    );
    pair.close();
  });
}
