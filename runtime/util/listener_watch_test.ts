import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { type ListenerState, watchListener } from "./listener_watch.ts";

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve) =>
    server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port))
  );
}

Deno.test("watchListener() binds a listener again once it is gone, and reports it", async () => {
  let accepted = 0;
  const make = () => createServer((socket) => (accepted++, socket.destroy()));
  let server = make();
  const port = await listen(server);
  const states: ListenerState[] = [];
  const watch = watchListener({
    host: "0.0.0.0",
    port,
    intervalMs: 50,
    accepted: () => accepted,
    rebind: async () => {
      server = make();
      await listen(server, port);
    },
    onState: (state) => states.push(state),
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(watch.state, "accepting");
    assert.deepEqual(states, [], "a healthy listener is not reported");
    // Gone underneath (what Deno 2.8.3 does after EMFILE): refused, then bound again.
    await new Promise((resolve) => server.close(resolve));
    for (let i = 0; i < 50 && states.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(states, ["rebinding", "accepting"]);
    const before = accepted;
    for (let i = 0; i < 50 && accepted === before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(accepted > before, "the new listener accepts the probes");
  } finally {
    watch.stop();
    await new Promise((resolve) => server.close(resolve));
  }
});
