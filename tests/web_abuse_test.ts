/**
 * The HTTP/1.1 abuse cases end to end, on a real svc's gRPC port with
 * `server.web.enabled`: request smuggling, header floods, a client sending
 * one byte a second, a stalled body, bodies over the limit. Each is
 * answered with its status or closed, within its timeout's bound; gRPC and
 * Connect clients are served meanwhile; and a few hundred hostile
 * connections leave the process's resident memory bounded.
 *
 * The HTTP/1.1 connection's own tests (runtime/transport/http1/
 * connection_abuse_test.ts) cover the parser case by case; this file shows
 * the same holds through the protocol sniffer, the web handler and the
 * config keys of a running process.
 * @module
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { grpcClient, startSvc, type SvcProcess, unary } from "./_harness.ts";
import { curl, WEB_ENV } from "./_connect.ts";

/** Small limits so each abuse reaches its bound quickly. */
const HEAD_TIMEOUT_MS = 1_000;
const BODY_IDLE_TIMEOUT_MS = 1_000;
const MAX_HEAD_BYTES = 4_096;
const MAX_HEADER_COUNT = 32;
const MAX_RECEIVE_BYTES = 4_096;
/** The HTTP/1.1 body bound svc derives from maxReceiveMessageBytes (grpc-web-text's base64 of one envelope). */
const MAX_BODY_BYTES = Math.ceil((MAX_RECEIVE_BYTES + 5) / 3) * 4;

const ENV: Record<string, string> = {
  ...WEB_ENV,
  SVC_SERVER_WEB_HEAD_TIMEOUT: `${HEAD_TIMEOUT_MS}ms`,
  SVC_SERVER_WEB_BODY_IDLE_TIMEOUT: `${BODY_IDLE_TIMEOUT_MS}ms`,
  SVC_SERVER_WEB_MAX_HEAD_BYTES: String(MAX_HEAD_BYTES),
  SVC_SERVER_WEB_MAX_HEADER_COUNT: String(MAX_HEADER_COUNT),
  SVC_SERVER_MAX_RECEIVE_MESSAGE_BYTES: String(MAX_RECEIVE_BYTES),
  SVC_LOGGING_ACCESS_LOG: "false",
};

/**
 * After a refusal svc lingers (500 ms) reading what is left before it
 * closes; its timers are checked every 250 ms. A second of slack on top
 * absorbs a busy two-core machine.
 */
const CLOSE_BOUND_MS = 500 + 250 + 1_000;

const PATH = "/helloworld.Greeter/SayHello";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A whole Connect JSON request for SayHello, as raw HTTP/1.1. */
function connectRequest(name: string): string {
  const body = JSON.stringify({ name });
  return `POST ${PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body}`;
}

/**
 * A raw TCP client: sends bytes as given, records what comes back, notices
 * the close. node:net rather than Deno.connect, whose close does not end a
 * pending read: disposing a still-open client must not wait for svc.
 */
class RawClient implements AsyncDisposable {
  readonly #socket: Socket;
  readonly #closed = Promise.withResolvers<void>();
  readonly #decoder = new TextDecoder();
  #text = "";
  #isClosed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#text += this.#decoder.decode(chunk, { stream: true });
    });
    // A reset is one of svc's answers; "close" follows it.
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#isClosed = true;
      this.#closed.resolve();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return bounded(
      new Promise<RawClient>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port, noDelay: true });
        socket.once("error", reject);
        socket.once("connect", () => {
          socket.off("error", reject);
          resolve(new RawClient(socket));
        });
      }),
      5_000,
      "connect",
    );
  }

  /** Everything received so far, as text. */
  get text(): string {
    return this.#text;
  }

  /** True once the server closed (or reset) the connection. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Sends `data`; false if the connection is gone. Resolves once written or closed. */
  send(data: string | Uint8Array): Promise<boolean> {
    if (this.#isClosed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#socket.write(data, (error) => resolve(!error));
      this.#closed.promise.then(() => resolve(false));
    });
  }

  /** Waits up to `ms` for the server to close; returns whether it did. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!this.#isClosed && performance.now() < deadline) await sleep(20);
    return this.#isClosed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#socket.destroy();
    await bounded(this.#closed.promise, 5_000, "closing a raw client");
  }
}

/** `promise`, or an error naming `what` after `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The status line numbers in `text`, in order: how many responses came and what they were. */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** Sends `request`; asserts one answer with `status`, `connection: close`, and the close. */
async function assertRefused(port: number, request: string, status: number): Promise<string> {
  await using client = await RawClient.connect(port);
  await client.send(request);
  assert.ok(await client.closedWithin(CLOSE_BOUND_MS), `still open: ${JSON.stringify(request)}`);
  assert.deepEqual(statuses(client.text), [status], client.text);
  assert.match(client.text, /\r\nconnection: close\r\n/i, client.text);
  return client.text;
}

/** VmRSS of `pid`, in bytes. */
async function rss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`No VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const HELD_CONNECTIONS = 400;
const PUSHY_WAVES = 6;
const PUSHY_PER_WAVE = 133;

/** Waits up to `ms` for svc to have closed every one of `clients`. */
async function assertAllClosed(clients: RawClient[], ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (clients.some((c) => !c.isClosed) && performance.now() < deadline) await sleep(100);
  const open = clients.filter((c) => !c.isClosed).length;
  assert.equal(open, 0, `${open} of ${clients.length} hostile connections still open`);
}

const greeter = grpcClient(["proto/helloworld.proto"]);

/** A gRPC call and a Connect JSON call (the real curl) both succeed. */
async function assertServed(svc: SvcProcess, label: string): Promise<void> {
  const client = greeter.makeClient("helloworld.Greeter", svc.port);
  try {
    const [grpcReply, connect] = await Promise.all([
      unary(client, "sayHello", { name: "grpc" }, { timeoutMs: 10_000 }),
      curl(`http://127.0.0.1:${svc.port}${PATH}`, [
        "-H",
        "content-type: application/json",
        "--data-binary",
        '{"name":"connect"}',
      ], 10),
    ]);
    assert.deepEqual(grpcReply, { message: "Hello, grpc!" }, label);
    assert.equal(connect.status, 200, `${label}: ${connect.stderr} ${connect.body}`);
    assert.deepEqual(JSON.parse(connect.body), { message: "Hello, connect!" }, label);
  } finally {
    client.close();
  }
}

/**
 * `count` connections that send a request head one byte a second and
 * reconnect when svc cuts them off, as a slowloris attacker does, until
 * stopped. `open()` is how many are connected right now.
 */
function slowlorisPool(port: number, count: number) {
  const request = connectRequest("slow");
  const clients = new Set<RawClient>();
  let stopped = false;
  let cutOff = 0;
  const worker = async () => {
    while (!stopped) {
      let client: RawClient;
      try {
        client = await RawClient.connect(port);
      } catch {
        await sleep(100);
        continue;
      }
      clients.add(client);
      try {
        for (let i = 0; i < request.length && !stopped && !client.isClosed; i++) {
          await client.send(request[i]);
          for (let waited = 0; waited < 1_000 && !stopped && !client.isClosed; waited += 50) {
            await sleep(50);
          }
        }
        if (client.isClosed) cutOff++;
      } finally {
        clients.delete(client);
        await client[Symbol.asyncDispose]();
      }
    }
  };
  const workers = Array.from({ length: count }, worker);
  return {
    open: () => [...clients].filter((c) => !c.isClosed).length,
    cutOff: () => cutOff,
    stop: async () => {
      stopped = true;
      await bounded(Promise.all(workers), 10_000, "stopping the slowloris pool");
    },
  };
}

Deno.test("web abuse: HTTP/1.1 attacks on the gRPC port are refused, others served, RSS bounded", async (t) => {
  await using svc = await startSvc({ config: "config/svc.yaml", env: ENV });
  const cmdline = (await Deno.readTextFile(`/proc/${svc.pid}/cmdline`)).split("\0");
  // The pid whose memory is measured must be svc's own, not a wrapper's.
  // `deno run -A <main.ts or a manifest entry> run <config>`: the runtime itself, no task runner.
  assert.ok(cmdline[0].endsWith("deno") && cmdline[1] === "run", cmdline.join(" "));
  await assertServed(svc, "before any attack");

  await t.step(
    "smuggling: Content-Length with Transfer-Encoding is 400, the second request unanswered",
    async () => {
      const smuggled = connectRequest("smuggled");
      const text = await assertRefused(
        svc.port,
        `POST ${PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
          `Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
        400,
      );
      assert.doesNotMatch(text, /smuggled/);
    },
  );

  await t.step(
    "smuggling: differing Content-Lengths and an odd Transfer-Encoding are 400",
    async () => {
      const body = '{"name":"a"}';
      const smuggled = connectRequest("smuggled");
      const differing = await assertRefused(
        svc.port,
        `POST ${PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nContent-Length: ${
            body.length + smuggled.length
          }\r\n\r\n` +
          body + smuggled,
        400,
      );
      assert.doesNotMatch(differing, /smuggled/);
      await assertRefused(
        svc.port,
        `POST ${PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
          `Transfer-Encoding: xchunked\r\n\r\n${body}${smuggled}`,
        400,
      );
    },
  );

  await t.step("header flood: more fields than maxHeaderCount is 431", async () => {
    let head = `POST ${PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n`;
    for (let i = 0; i < MAX_HEADER_COUNT * 4; i++) head += `x-flood-${i}: y\r\n`;
    await assertRefused(svc.port, head + "Content-Length: 2\r\n\r\n{}", 431);
  });

  await t.step(
    "header flood: one header over maxHeadBytes is 431 before its end arrives",
    async () => {
      await using client = await RawClient.connect(svc.port);
      // No end of line, no end of head: the bound must act on the bytes alone.
      await client.send(`POST ${PATH} HTTP/1.1\r\nHost: t\r\nx-big: ${"a".repeat(MAX_HEAD_BYTES)}`);
      assert.ok(await client.closedWithin(CLOSE_BOUND_MS), "closed");
      assert.deepEqual(statuses(client.text), [431], client.text);
    },
  );

  await t.step("slowloris: a head sent one byte a second is cut off at headTimeout", async () => {
    await using client = await RawClient.connect(svc.port);
    const request = connectRequest("slow");
    const started = performance.now();
    for (let i = 0; i < request.length && !client.isClosed; i++) {
      await client.send(request[i]);
      await client.closedWithin(1_000);
    }
    const closedAfter = performance.now() - started;
    assert.ok(client.isClosed, "closed");
    // "G" or "P","O": the sniffer hands the connection on within a byte or two,
    // and the head is timed from there; the rest is the tick and the linger.
    assert.ok(closedAfter >= HEAD_TIMEOUT_MS - 50, `closed after ${closedAfter.toFixed(0)} ms`);
    assert.ok(
      closedAfter < HEAD_TIMEOUT_MS + 1_000 + CLOSE_BOUND_MS,
      `closed after ${closedAfter.toFixed(0)} ms`,
    );
    assert.deepEqual(statuses(client.text), [408], client.text);
  });

  await t.step("a body that stalls past bodyIdleTimeout is 408 and closed", async () => {
    await using client = await RawClient.connect(svc.port);
    await client.send(
      `POST ${PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
        `Content-Length: 100\r\n\r\n{"name":`,
    );
    const started = performance.now();
    assert.ok(await client.closedWithin(BODY_IDLE_TIMEOUT_MS + CLOSE_BOUND_MS), "closed");
    const closedAfter = performance.now() - started;
    assert.ok(
      closedAfter >= BODY_IDLE_TIMEOUT_MS - 50,
      `closed after ${closedAfter.toFixed(0)} ms`,
    );
    assert.deepEqual(statuses(client.text), [408], client.text);
  });

  await t.step("a declared body over the limit is 413 before any of it is sent", async () => {
    await using client = await RawClient.connect(svc.port);
    await client.send(
      `POST ${PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`,
    );
    // Answered and closed with not one body byte sent.
    assert.ok(await client.closedWithin(CLOSE_BOUND_MS), "closed");
    assert.deepEqual(statuses(client.text), [413], client.text);
  });

  await t.step("a chunked body over the limit is refused (413 or 429) and closed", async () => {
    await using client = await RawClient.connect(svc.port);
    await client.send(
      `POST ${PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = `400\r\n${"z".repeat(0x400)}\r\n`;
    let sent = 0;
    while (sent <= MAX_BODY_BYTES * 2 && !client.isClosed && await client.send(chunk)) {
      sent += 0x400;
    }
    assert.ok(await client.closedWithin(CLOSE_BOUND_MS), `still open after ${sent} bytes`);
    // The answer can be lost to a reset when unread chunks were still in flight. Which
    // bound answers first depends on what has been read: the message limit (Connect's
    // resource_exhausted, 429) or the HTTP layer's body bound (413).
    assert.ok(
      client.text === "" || [413, 429].includes(statuses(client.text)[0]),
      client.text.slice(0, 200),
    );
    assert.ok(sent > MAX_BODY_BYTES / 2, `refused after only ${sent} bytes`);
  });

  await t.step("others are served while 200 slowloris connections are open", async () => {
    const pool = slowlorisPool(svc.port, 200);
    try {
      const deadline = performance.now() + 10_000;
      while (pool.open() < 180 && performance.now() < deadline) await sleep(50);
      const openDuringCalls = pool.open();
      await assertServed(svc, "during the slowloris attack");
      assert.ok(openDuringCalls >= 180, `only ${openDuringCalls} slowloris connections were open`);
      // Keep it up past the head timeout: svc cuts them off, they come back.
      const cutOffBy = performance.now() + 1_000 + HEAD_TIMEOUT_MS + CLOSE_BOUND_MS + 3_000;
      while (pool.cutOff() < 150 && performance.now() < cutOffBy) await sleep(50);
      assert.ok(pool.cutOff() >= 150, `svc cut off only ${pool.cutOff()} connections`);
      await assertServed(svc, "after svc cut the first slowloris connections off");
    } finally {
      await pool.stop();
    }
  });

  await t.step("400 connections held half-sent cost little memory each", async () => {
    const before = await rss(svc.pid);
    let peak = before;
    const hostile: RawClient[] = [];
    try {
      // Each holds as much as svc lets one connection hold: a head just under
      // maxHeadBytes, or a body just under the limit, never finished.
      const nearlyFullHead = `POST ${PATH} HTTP/1.1\r\nHost: t\r\nx-pad: ${
        "p".repeat(MAX_HEAD_BYTES - 200)
      }`;
      const nearlyFullBody =
        `POST ${PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${MAX_RECEIVE_BYTES}\r\n\r\n{"name":"${
          "b".repeat(MAX_RECEIVE_BYTES - 200)
        }`;
      for (let i = 0; i < HELD_CONNECTIONS; i++) {
        const client = await RawClient.connect(svc.port);
        hostile.push(client);
        void client.send(i % 2 === 0 ? nearlyFullHead : nearlyFullBody);
        if (i % 50 === 49) peak = Math.max(peak, await rss(svc.pid));
      }
      await assertServed(svc, `with ${HELD_CONNECTIONS} half-sent connections open`);
      peak = Math.max(peak, await rss(svc.pid));
      // Every one of them is cut off by its timeout.
      await assertAllClosed(hostile, HEAD_TIMEOUT_MS + CLOSE_BOUND_MS + 3_000);
    } finally {
      await Promise.all(hostile.map((c) => c[Symbol.asyncDispose]()));
    }
    const growth = peak - before;
    console.log(
      `held: svc VmRSS before ${mib(before)}, peak ${mib(peak)} (+${mib(growth)}, ` +
        `${(growth / HELD_CONNECTIONS / 1024).toFixed(0)} KiB per connection)`,
    );
    // 64 MiB over 400 connections: 160 KiB each, far above the ~8 KiB they were let send.
    assert.ok(growth < 64 * MiB, `RSS grew by ${mib(growth)}`);
  });

  await t.step(
    "clients pushing a megabyte each past the limits leave no memory behind",
    async () => {
      // A valid request, then a megabyte of junk: svc answers the request, refuses
      // the junk as a head over maxHeadBytes, discards what is in flight, closes.
      // Reading it all makes garbage, so RSS climbs over the first waves towards
      // a high-water mark (seen: +80 to +170 MiB, flat from the third or fourth
      // wave on); what must not happen is a rise per wave, memory kept per
      // connection: a retained megabyte would be 133 MiB a wave.
      const pushy = new TextEncoder().encode(connectRequest("pushy") + "J".repeat(MiB));
      const samples = [await rss(svc.pid)];
      for (let wave = 0; wave < PUSHY_WAVES; wave++) {
        const hostile: RawClient[] = [];
        try {
          for (let i = 0; i < PUSHY_PER_WAVE; i++) {
            const client = await RawClient.connect(svc.port);
            hostile.push(client);
            void client.send(pushy);
          }
          await assertAllClosed(hostile, CLOSE_BOUND_MS + 8_000);
          const answered = hostile.filter((c) => c.text.includes("Hello, pushy!")).length;
          assert.ok(answered > 0, "the valid requests in front were answered");
        } finally {
          await Promise.all(hostile.map((c) => c[Symbol.asyncDispose]()));
        }
        samples.push(await rss(svc.pid));
      }
      await assertServed(svc, "after the pushing clients");
      const seen = samples.map(mib).join(", ");
      console.log(`pushy: svc VmRSS before and after each wave: ${seen}`);
      // Early and late waves, each by the higher of two samples (GC timing is noise).
      const early = Math.max(samples[1], samples[2]);
      const late = Math.max(samples[PUSHY_WAVES - 1], samples[PUSHY_WAVES]);
      assert.ok(late - early < 160 * MiB, `RSS kept rising: ${seen}`);
      assert.ok(late - samples[0] < 384 * MiB, `RSS grew too much: ${seen}`);
    },
  );
});
