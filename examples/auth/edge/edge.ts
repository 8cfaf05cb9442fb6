/**
 * edge.Edge: SayHello asks helloworld.Greeter and answers with its reply.
 * The token check happens before (`_middleware.ts`) and the token travels
 * on (`_client_middleware.ts`), so this handler says nothing about auth. A
 * greeter error, UNAUTHENTICATED included, reaches the caller with its code.
 * `ctx.clients.get("helloworld.Greeter")` is typed by `svc types`, which
 * writes a `GreeterClient` for the dependency in edge.yaml.
 * @module
 */
import { defineService } from "svc";
import type { EdgeHandlers } from "./_types.ts";

export default defineService<EdgeHandlers>("edge.Edge", {
  async sayHello(req, ctx) {
    return await ctx.clients.get("helloworld.Greeter").sayHello({ name: req.name });
  },
});
