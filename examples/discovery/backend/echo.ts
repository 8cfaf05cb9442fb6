/**
 * demo.Backend: run several of these; each registers in etcd under
 * `services/demo.Backend/<host:port>` and answers with its own identity, so
 * the frontend's replies show the round-robin.
 * @module
 */
import { defineService } from "svc";
import type { BackendHandlers, EchoReplyInit } from "./_types.ts";

/** Who answers: the process ID tells instances on one host apart. */
const INSTANCE = `pid ${Deno.pid}`;

function reply(text: string, deadline: number): EchoReplyInit {
  const deadlineMs = Number.isFinite(deadline) ? Math.max(0, deadline - Date.now()) : -1;
  return { text, instance: INSTANCE, deadlineMs };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    // The caller's deadline or cancellation ends the wait early.
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

export default defineService<BackendHandlers>("demo.Backend", {
  async echo(req, ctx) {
    if (req.sleepMs > 0) await sleep(req.sleepMs, ctx.signal);
    return reply(req.text, ctx.deadline);
  },
  async *count(req, ctx) {
    for (let i = 1; i <= req.count && !ctx.signal.aborted; i++) {
      yield reply(`${req.text} ${i}`, ctx.deadline);
    }
  },
  async join(reqs, ctx) {
    const texts: string[] = [];
    for await (const r of reqs) texts.push(r.text);
    return reply(texts.join(" "), ctx.deadline);
  },
  async *chat(reqs, ctx) {
    for await (const r of reqs) yield reply(r.text, ctx.deadline);
  },
});
