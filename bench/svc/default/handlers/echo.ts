/**
 * The benchmark's Echo handler: what a user would write for bench.Echo.
 * @module
 */
import { defineService } from "svc";

interface Msg {
  payload: Uint8Array;
}
interface StreamRequest {
  count: number;
  payload: Uint8Array;
}

export default defineService("bench.Echo", {
  /** Unary: the reply is the request. */
  say(req: Msg) {
    return req;
  },
  /** Server streaming: `count` replies carrying `payload`. */
  async *stream(req: StreamRequest) {
    const reply = { payload: req.payload };
    for (let i = 0; i < req.count; i++) yield reply;
  },
  /** Bidi ping-pong: one reply per request. */
  async *ping(reqs: AsyncIterable<Msg>) {
    for await (const req of reqs) yield req;
  },
  /** Client streaming: reads every request; the reply is the last (an empty Msg if none came). */
  async collect(reqs: AsyncIterable<Msg>) {
    let last: Msg = { payload: new Uint8Array() };
    for await (const req of reqs) last = req;
    return last;
  },
});
