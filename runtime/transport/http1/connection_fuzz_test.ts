/**
 * Http1Connection fed random and mutated requests: nothing may throw out
 * of it, and every connection must end within its bounds. Most cases run on
 * an in-memory socket with a simulated clock (thousands, quickly); a batch
 * runs over real loopback sockets too.
 * @module
 */
import assert from "node:assert/strict";
import type { ByteSocket } from "../native/socket.ts";
import { Http1Connection, LINGER_MS } from "./connection.ts";
import {
  delay,
  echoHandler,
  latin1,
  parseResponses,
  RawClient,
  startServer,
  TEST_LIMITS,
} from "./_testing.ts";

/** xorshift32: the same cases every run, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

const CORPUS = [
  "GET /a?b=c HTTP/1.1\r\nHost: t\r\n\r\n",
  "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
  "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nt: 1\r\n\r\n",
  "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
  "GET /stream HTTP/1.1\r\nHost: t\r\n\r\nHEAD / HTTP/1.1\r\nHost: t\r\n\r\n",
  "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
  "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: t\r\n\r\n",
];
const TOKENS = [
  "\r\n",
  "\n",
  "\r",
  ":",
  " ",
  "\t",
  "0\r\n\r\n",
  "ffffffff",
  ";",
  ",",
  "\x00",
  "\xff",
];

function mutate(input: string, next: () => number): string {
  let text = input;
  const rounds = 1 + Math.floor(next() * 4);
  for (let round = 0; round < rounds; round++) {
    const at = Math.floor(next() * (text.length + 1));
    const kind = Math.floor(next() * 6);
    if (kind === 0) {
      text = text.slice(0, at) + String.fromCharCode(Math.floor(next() * 256)) + text.slice(at + 1);
    } else if (kind === 1) {
      text = text.slice(0, at) + TOKENS[Math.floor(next() * TOKENS.length)] + text.slice(at);
    } else if (kind === 2) text = text.slice(0, at) + text.slice(at + Math.floor(next() * 8));
    else if (kind === 3) {
      text = text.slice(0, at) + text.slice(at, at + 16).repeat(3) + text.slice(at);
    } else if (kind === 4) text = text.slice(0, at);
    else text += CORPUS[Math.floor(next() * CORPUS.length)];
  }
  return text;
}

function randomBytes(next: () => number): string {
  let text = "";
  const length = Math.floor(next() * 200);
  for (let i = 0; i < length; i++) text += String.fromCharCode(Math.floor(next() * 256));
  return text;
}

/** An in-memory socket: delivers `input` in random pieces, honouring pause. */
function memorySocket(input: Uint8Array, next: () => number) {
  let onData: (chunk: Uint8Array) => void = () => {};
  let onEnd = () => {};
  let paused = false;
  let closed = false;
  let offset = 0;
  const output: number[] = [];
  const deliver = () => {
    while (!paused && !closed && offset < input.length) {
      const size = 1 + Math.floor(next() * 64);
      const chunk = input.slice(offset, offset + size);
      offset += chunk.length;
      onData(chunk);
    }
  };
  const socket: ByteSocket = {
    peer: "127.0.0.1:1",
    peerCertificate: null,
    start(data, end) {
      onData = data;
      onEnd = end;
      queueMicrotask(deliver);
    },
    pause: () => paused = true,
    resume() {
      paused = false;
      queueMicrotask(deliver);
    },
    write(bytes) {
      if (closed) return Promise.reject(new Error("socket closed"));
      output.push(...bytes);
      return Promise.resolve();
    },
    close() {
      if (closed) return;
      closed = true;
      onEnd();
    },
  };
  return { socket, output, isClosed: () => closed };
}

Deno.test("Http1Connection survives 3,000 mutated requests and closes each within its bounds", async () => {
  const next = random(0x5eed);
  const gate = { wait: Promise.resolve(), started: () => {} };
  const handler = echoHandler(gate);
  // Every wait ends by then: the slowest path is idle, then a head, then a stalled body.
  const bound = TEST_LIMITS.keepAliveIdleMs + TEST_LIMITS.headTimeoutMs +
    TEST_LIMITS.bodyIdleTimeoutMs + LINGER_MS + 1000;
  for (let batch = 0; batch < 30; batch++) {
    let now = 0;
    const cases: {
      input: string;
      memory: ReturnType<typeof memorySocket>;
      connection: Http1Connection;
    }[] = [];
    for (let i = 0; i < 100; i++) {
      const base = CORPUS[Math.floor(next() * CORPUS.length)];
      const input = next() < 0.1 ? randomBytes(next) : mutate(base, next);
      const memory = memorySocket(latin1(input), next);
      const errors: unknown[] = [];
      const connection = new Http1Connection(
        memory.socket,
        new Uint8Array(0),
        handler,
        TEST_LIMITS,
        {
          now: () => now,
          onHandlerError: (error) => errors.push(error),
        },
      );
      cases.push({ input, memory, connection });
    }
    for (; now <= bound; now += 250) {
      await delay(0);
      for (const { connection } of cases) connection.tick(now);
    }
    await delay(0);
    for (const { input, memory } of cases) {
      assert.ok(memory.isClosed(), `still open after ${bound} ms: ${JSON.stringify(input)}`);
      const text = String.fromCharCode(...memory.output.slice(0, 4096));
      assert.ok(text === "" || text.startsWith("HTTP/1.1 "), `answered: ${JSON.stringify(text)}`);
    }
  }
});

Deno.test("Http1Connection survives mutated requests over real sockets", async () => {
  const next = random(0xbeef);
  await using server = await startServer();
  const clients = await Promise.all(
    Array.from({ length: 60 }, () => RawClient.connect(server.port)),
  );
  try {
    await Promise.all(clients.map((client) => {
      const base = CORPUS[Math.floor(next() * CORPUS.length)];
      return client.send(next() < 0.2 ? randomBytes(next) : mutate(base, next));
    }));
    const bound = TEST_LIMITS.keepAliveIdleMs + TEST_LIMITS.headTimeoutMs +
      TEST_LIMITS.bodyIdleTimeoutMs + LINGER_MS + 1500;
    const closed = await Promise.all(clients.map((client) => client.closedWithin(bound)));
    assert.deepEqual(closed.filter((c) => !c), [], "every connection ended in time");
    for (const client of clients) {
      assert.ok(client.text === "" || client.text.startsWith("HTTP/1.1 "), client.text);
      parseResponses(client.text);
    }
    assert.equal(server.connections.size, 0);
  } finally {
    for (const client of clients) await client[Symbol.asyncDispose]();
  }
});
