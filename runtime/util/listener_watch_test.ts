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

Deno.test({
  name:
    "watchListener() on a shared port binds again a listener that takes nothing while connections queue",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // What Deno 2.8.3 leaves after EMFILE: a socket in LISTEN that nobody accepts from.
    let dead: Deno.Listener | null = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = dead.addr as Deno.NetAddr;
    let accepted = 0;
    let server: Server | null = null;
    const states: ListenerState[] = [];
    const watch = watchListener({
      host: "127.0.0.1",
      port,
      intervalMs: 50,
      shared: true,
      accepted: () => accepted,
      rebind: async () => {
        dead?.close();
        dead = null;
        server = createServer((socket) => (accepted++, socket.destroy()));
        await listen(server, port);
      },
      onState: (state) => states.push(state),
    });
    try {
      // The probes queue on the dead socket: three looks with nothing taken (each probe
      // waits 1 s to be taken), then a rebind.
      for (let i = 0; i < 400 && !states.includes("accepting"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(states, ["rebinding", "accepting"]);
      const before = accepted;
      for (let i = 0; i < 50 && accepted === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(accepted > before, "the new listener accepts");
    } finally {
      watch.stop();
      dead?.close();
      if (server) await new Promise((resolve) => server!.close(resolve));
    }
  },
});

Deno.test("watchListener() on a shared port leaves alone a listener that took nothing while no connection waits", async () => {
  let accepted = 0;
  const server = createServer((socket) => (accepted++, socket.destroy()));
  const port = await listen(server);
  let rebinds = 0;
  const watch = watchListener({
    host: "127.0.0.1",
    port,
    intervalMs: 50,
    shared: true,
    // Probes taken "by another worker": this listener's count never moves.
    accepted: () => 0,
    backlog: () => 0,
    rebind: () => (rebinds++, Promise.resolve()),
    onState: () => {},
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(rebinds, 0);
    assert.equal(watch.state, "accepting");
    assert.ok(accepted > 0, "the probes were made");
  } finally {
    watch.stop();
    await new Promise((resolve) => server.close(resolve));
  }
});
