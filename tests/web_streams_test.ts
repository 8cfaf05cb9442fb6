/**
 * End-to-end: client streaming and bidi streaming from real
 * @connectrpc/connect-node clients, gRPC-Web and Connect (binary and JSON).
 * Over HTTP/2 all four call kinds work, bidi as a true ping-pong (each
 * reply read before the next request is sent, so the server must answer
 * while the request stream is still open); over HTTP/1.1 client streaming
 * works (the whole body precedes the reply) and bidi is refused with
 * UNIMPLEMENTED, as the call-kind table in docs/browsers.md says. Results
 * are compared with the same calls made by grpc-js.
 * @module
 */
import assert from "node:assert/strict";
import type * as grpc from "@grpc/grpc-js";
import { ConnectError } from "@connectrpc/connect";
import { grpcClient, type GrpcTestClient, startSvc } from "./_harness.ts";
import { loadRegistry, WEB_ENV, WEB_PROTOCOLS, webClients } from "./_connect.ts";

const GREETER_PROTO = "proto/helloworld.proto";
const ROUTEGUIDE_PROTO = "examples/routeguide/proto/route_guide.proto";
const STEP_TIMEOUT_MS = 10_000;

/** A connect-es client whose methods are called by name with any request shape. */
// deno-lint-ignore no-explicit-any
type LooseClient = Record<string, (...args: any[]) => any>;

/** Rejects after `ms`: no await below can hang the test. */
function bounded<T>(promise: Promise<T>, what: string, ms = STEP_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `values` as the async iterable connect-es takes for a request stream. */
async function* from<T>(values: T[]): AsyncIterable<T> {
  for (const value of values) yield value;
}

function loose(client: unknown): LooseClient {
  return client as LooseClient;
}

/** An async iterable the test feeds one message at a time. */
class Feed<T> implements AsyncIterable<T> {
  readonly #queue: T[] = [];
  #closed = false;
  #wake: (() => void) | null = null;
  push(value: T): void {
    this.#queue.push(value);
    this.#wake?.();
  }
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = null;
    }
  }
}

/** A client-streaming call with grpc-js: the reference reply. */
function grpcClientStream(client: GrpcTestClient, method: string, requests: unknown[]) {
  return new Promise<unknown>((resolve, reject) => {
    const call = client[method](
      { deadline: Date.now() + STEP_TIMEOUT_MS },
      (error: grpc.ServiceError | null, reply: unknown) => error ? reject(error) : resolve(reply),
    );
    for (const request of requests) call.write(request);
    call.end();
  });
}

/** A bidi call with grpc-js, all requests sent up front: the reference replies. */
function grpcBidi(client: GrpcTestClient, method: string, requests: unknown[]) {
  return new Promise<unknown[]>((resolve, reject) => {
    const replies: unknown[] = [];
    const call = client[method]({ deadline: Date.now() + STEP_TIMEOUT_MS });
    call.on("data", (reply: unknown) => replies.push(reply));
    call.on("error", reject);
    call.on("end", () => resolve(replies));
    for (const request of requests) call.write(request);
    call.end();
  });
}

/** Messages as plain JSON without unset fields, as both clients agree on them. */
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(
      value,
      // connect-es marks its messages with `$typeName`; grpc-js has no such field.
      (k, v) => k.startsWith("$") ? undefined : typeof v === "bigint" ? String(v) : v ?? undefined,
    ),
  );
}

/**
 * Bidi as ping-pong: each request waits for its reply before the next is
 * sent, which only a full-duplex server can answer.
 */
async function pingPong(
  client: LooseClient,
  method: string,
  requests: unknown[],
  repliesPerRequest: (index: number) => number,
): Promise<unknown[]> {
  const feed = new Feed<unknown>();
  const replies: unknown[] = [];
  const stream: AsyncIterator<unknown> = client[method](feed, { timeoutMs: STEP_TIMEOUT_MS })[
    Symbol.asyncIterator
  ]();
  for (let i = 0; i < requests.length; i++) {
    feed.push(requests[i]);
    for (let n = 0; n < repliesPerRequest(i); n++) {
      const next = await bounded(stream.next(), `reply ${n + 1} to request ${i + 1}`);
      assert.equal(next.done, false, `the stream ended before reply ${n + 1} to request ${i + 1}`);
      replies.push(plain(next.value));
    }
  }
  feed.close();
  const end = await bounded(stream.next(), "the end of the stream");
  assert.equal(end.done, true, "no replies beyond the expected ones");
  return replies;
}

Deno.test("web protocols: client and bidi streaming on the demo, over HTTP/2 and HTTP/1.1", async (t) => {
  const greeter = (await loadRegistry(GREETER_PROTO, "proto")).getService("helloworld.Greeter")!;
  await using svc = await startSvc({ config: "config/svc.yaml", env: WEB_ENV });
  const reference = grpcClient([GREETER_PROTO]).makeClient("helloworld.Greeter", svc.port);
  await using h2 = webClients(svc.port, "2");
  await using h1 = webClients(svc.port, "1.1");
  try {
    const names = [{ name: "Ada" }, { name: "Bo" }, { name: "Cy" }];
    const greeting = plain(await grpcClientStream(reference, "lotsOfGreetings", names));
    assert.deepEqual(greeting, { message: "Hello, Ada, Bo, Cy!" }, "the gRPC reference");
    const replies = plain(await grpcBidi(reference, "bidiHello", names));
    assert.equal((replies as unknown[]).length, 3, "the gRPC reference");

    for (const protocol of WEB_PROTOCOLS) {
      await t.step(`HTTP/2 ${protocol}: client streaming LotsOfGreetings`, async () => {
        const client = loose(h2.client(protocol, greeter));
        const got = await bounded(client.lotsOfGreetings(from(names)), "LotsOfGreetings");
        assert.deepEqual(plain(got), greeting);
      });
      await t.step(`HTTP/2 ${protocol}: bidi BidiHello, one reply per request`, async () => {
        const got = await pingPong(
          loose(h2.client(protocol, greeter)),
          "bidiHello",
          names,
          () => 1,
        );
        assert.deepEqual(got, replies);
      });
      await t.step(`HTTP/1.1 ${protocol}: client streaming LotsOfGreetings`, async () => {
        const client = loose(h1.client(protocol, greeter));
        const got = await bounded(client.lotsOfGreetings(from(names)), "LotsOfGreetings");
        assert.deepEqual(plain(got), greeting);
      });
      await t.step(`HTTP/1.1 ${protocol}: bidi is UNIMPLEMENTED, naming HTTP/2`, async () => {
        const client = loose(h1.client(protocol, greeter));
        const error = await bounded(
          (async () => {
            try {
              for await (const _ of client.bidiHello(from(names), { timeoutMs: STEP_TIMEOUT_MS })) {
                // Nothing is expected.
              }
            } catch (e) {
              return ConnectError.from(e);
            }
            return null;
          })(),
          "BidiHello over HTTP/1.1",
        );
        assert.equal(error?.code, 12, String(error));
        assert.match(error!.rawMessage, /HTTP\/2/);
      });
    }
  } finally {
    reference.close();
  }
});

Deno.test("web protocols: RouteGuide's RecordRoute and RouteChat over HTTP/2 match gRPC", async (t) => {
  const routeGuide = (await loadRegistry(ROUTEGUIDE_PROTO, "examples/routeguide/proto"))
    .getService("routeguide.RouteGuide")!;
  await using svc = await startSvc({ config: "examples/routeguide/svc.yaml", env: WEB_ENV });
  const reference = grpcClient([ROUTEGUIDE_PROTO]).makeClient("routeguide.RouteGuide", svc.port);
  await using h2 = webClients(svc.port, "2");
  try {
    // Brandenburg Gate, then two points nearby: a known feature and a distance.
    const route = [
      { latitude: 525162750, longitude: 133777040 },
      { latitude: 525200000, longitude: 133800000 },
      { latitude: 525300000, longitude: 133900000 },
    ];
    const summary = plain(await grpcClientStream(reference, "recordRoute", route));
    assert.equal((summary as { pointCount: number }).pointCount, 3, "the gRPC reference");

    // RouteChat keeps notes per location across calls: each caller gets its own location,
    // and the replies are compared without it.
    const notesAt = (latitude: number) =>
      ["one", "two", "three"].map((message) => ({ location: { latitude, longitude: 1 }, message }));
    const withoutLocation = (notes: unknown[]) =>
      notes.map((n) => ({ ...(n as object), location: "-" }));
    const chat = plain(await grpcBidi(reference, "routeChat", notesAt(1))) as unknown[];
    // The first note has no earlier one, the second one, the third two.
    assert.equal(chat.length, 3, "the gRPC reference");

    let latitude = 2;
    for (const protocol of WEB_PROTOCOLS) {
      await t.step(`HTTP/2 ${protocol}: client streaming RecordRoute`, async () => {
        const client = loose(h2.client(protocol, routeGuide));
        const got = await bounded(client.recordRoute(from(route)), "RecordRoute");
        assert.deepEqual(plain(got), summary);
      });
      await t.step(`HTTP/2 ${protocol}: bidi RouteChat as ping-pong`, async () => {
        const notes = notesAt(latitude++);
        const got = await pingPong(
          loose(h2.client(protocol, routeGuide)),
          "routeChat",
          notes,
          (i) => i,
        );
        assert.deepEqual(withoutLocation(got), withoutLocation(chat));
      });
    }
  } finally {
    reference.close();
  }
});
