/**
 * demo.Frontend: each call goes to a demo.Backend instance found in etcd,
 * through `ctx.clients`. The backend call inherits this call's deadline and
 * cancellation; a backend error surfaces here as an RpcError with its code.
 * `ctx.clients.get("demo.Backend")` is typed by `svc types`, which writes a
 * `BackendClient` for each dependency in frontend.yaml.
 * @module
 */
import { defineService } from "svc";
import type { FrontendHandlers } from "./_types.ts";

export default defineService<FrontendHandlers>("demo.Frontend", {
  async greet(req, ctx) {
    const backend = ctx.clients.get("demo.Backend");
    const reply = await backend.echo({ text: `Hello, ${req.name || "world"}!` });
    return {
      message: reply.text,
      backend: reply.instance,
      backendDeadlineMs: reply.deadlineMs,
    };
  },
  async greetMany(req, ctx) {
    const backend = ctx.clients.get("demo.Backend");
    const byBackend: Record<string, number> = {};
    for (let i = 0; i < req.times; i++) {
      const reply = await backend.echo({ text: req.name });
      byBackend[reply.instance] = (byBackend[reply.instance] ?? 0) + 1;
    }
    return { byBackend };
  },
});
