/**
 * The demo handler: `helloworld.Greeter` from proto/helloworld.proto, one
 * method of each gRPC call kind.
 *
 * Try it (server started with `deno task svc run config/svc.yaml`):
 * ```sh
 * grpcurl -plaintext -d '{"name":"Ada"}' localhost:50051 helloworld.Greeter/SayHello
 * ```
 * @module
 */
import { defineService, RpcError, Status } from "svc";
import type { GreeterHandlers } from "./_types.ts";

/** Longest name we greet; longer ones are rejected with INVALID_ARGUMENT. */
const MAX_NAME_LENGTH = 200;

/** How many replies `LotsOfReplies` streams. */
const REPLY_COUNT = 3;

function greeting(name: string): string {
  if (name.length > MAX_NAME_LENGTH) {
    throw new RpcError(
      Status.INVALID_ARGUMENT,
      `name is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`,
    );
  }
  return `Hello, ${name || "world"}!`;
}

export default defineService<GreeterHandlers>("helloworld.Greeter", {
  /** Unary: one greeting. */
  sayHello(req) {
    return { message: greeting(req.name) };
  },

  /** Server streaming: three numbered greetings. */
  async *lotsOfReplies(req, ctx) {
    const message = greeting(req.name);
    for (let i = 1; i <= REPLY_COUNT; i++) {
      // Stop early if the client went away or the deadline passed.
      ctx.signal.throwIfAborted();
      yield { message: `${message} (${i} of ${REPLY_COUNT})` };
    }
  },

  /** Client streaming: one greeting naming everyone who was sent. */
  async lotsOfGreetings(reqs, ctx) {
    const names: string[] = [];
    for await (const req of reqs) {
      ctx.signal.throwIfAborted();
      greeting(req.name); // validates the length
      names.push(req.name || "world");
    }
    ctx.log.debug("greeted a group", { count: names.length });
    return { message: names.length ? `Hello, ${names.join(", ")}!` : "Hello, nobody!" };
  },

  /** Bidirectional streaming: one greeting per name, as each arrives. */
  async *bidiHello(reqs, ctx) {
    for await (const req of reqs) {
      ctx.signal.throwIfAborted();
      yield { message: greeting(req.name) };
    }
  },
});
