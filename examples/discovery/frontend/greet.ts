/**
 * demo.Frontend: each call goes to a demo.Backend instance found in etcd,
 * through `ctx.clients`. The backend call inherits this call's deadline and
 * cancellation; a backend error surfaces here as an RpcError with its code.
 * @module
 */
import { defineService } from "svc";
import type { FrontendHandlers } from "./_types.ts";
import type { EchoReply, EchoRequestInit } from "./_backend_types.ts";

/** The part of demo.Backend this handler calls, typed. */
interface BackendClient {
  echo(request: EchoRequestInit): Promise<EchoReply>;
}

export default defineService<FrontendHandlers>("demo.Frontend", {
  async greet(req, ctx) {
    const backend = ctx.clients.get<BackendClient>("demo.Backend");
    const reply = await backend.echo({ text: `Hello, ${req.name || "world"}!` });
    return {
      message: reply.text,
      backend: reply.instance,
      backendDeadlineMs: reply.deadlineMs,
    };
  },
  async greetMany(req, ctx) {
    const backend = ctx.clients.get<BackendClient>("demo.Backend");
    const byBackend: Record<string, number> = {};
    for (let i = 0; i < req.times; i++) {
      const reply = await backend.echo({ text: req.name });
      byBackend[reply.instance] = (byBackend[reply.instance] ?? 0) + 1;
    }
    return { byBackend };
  },
});
