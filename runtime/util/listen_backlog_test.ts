import assert from "node:assert/strict";
import { portBacklog } from "./listen_backlog.ts";

const linux = Deno.build.os === "linux";

Deno.test({
  name: "portBacklog() counts the connections waiting, unaccepted, on a port's listener",
  ignore: !linux,
  async fn() {
    // A Deno listener that is never asked to accept: the kernel queues what connects.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    const clients: Deno.Conn[] = [];
    try {
      assert.equal(portBacklog(port), 0);
      for (let i = 0; i < 3; i++) clients.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      assert.equal(portBacklog(port), 3);
      // Taken by the listener: no longer queued.
      const taken = await listener.accept();
      taken.close();
      assert.equal(portBacklog(port), 2);
    } finally {
      for (const client of clients) client.close();
      listener.close();
    }
  },
});

Deno.test("portBacklog() is null where /proc cannot be read", () => {
  assert.equal(portBacklog(50051, ["/nonexistent/tcp"]), null);
});
