/**
 * grpc.health.v1 and the admin probes, seen by Python grpcio and HTTP.
 */
import assert from "node:assert/strict";
import { ROOT, startSvc } from "./_harness.ts";
import { pythonGrpcMissing, runPython } from "./_python.ts";

const CONFIG = `${ROOT}/config/svc.yaml`;
const missing = await pythonGrpcMissing();

Deno.test({
  name: "health Check and Watch from Python grpcio; /healthz and /readyz over HTTP",
  ignore: missing !== null,
  async fn(t) {
    await using svc = await startSvc({ config: CONFIG, env: { SVC_SHUTDOWN_DRAIN_DELAY: "1s" } });
    const port = String(svc.port);

    await t.step("Check answers SERVING for the server and each served service", async () => {
      assert.deepEqual(await runPython("health_client.py", ["--port", port, "check"]), [{
        status: "SERVING",
      }]);
      assert.deepEqual(
        await runPython("health_client.py", ["--port", port, "check", "helloworld.Greeter"]),
        [{ status: "SERVING" }],
      );
    });

    await t.step("Check answers NOT_FOUND for an unknown service", async () => {
      const [reply] = await runPython("health_client.py", ["--port", port, "check", "no.Such"]);
      assert.equal(reply.code, "NOT_FOUND");
    });

    await t.step(
      "Watch sends SERVICE_UNKNOWN for an unknown service and keeps the stream open",
      async () => {
        const lines = await runPython("health_client.py", [
          "--port",
          port,
          "watch",
          "no.Such",
          "--seconds",
          "1",
        ]);
        assert.equal(lines[0].status, "SERVICE_UNKNOWN");
        assert.equal(lines.at(-1)!.end, "DEADLINE_EXCEEDED", "open until the client's deadline");
      },
    );

    await t.step("the admin probes answer in plain text", async () => {
      const live = await fetch(`http://127.0.0.1:${svc.adminPort}/healthz`);
      assert.equal(live.status, 200);
      assert.equal(await live.text(), "ok\n");
      const ready = await fetch(`http://127.0.0.1:${svc.adminPort}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(await ready.text(), "ready\n");
    });

    await t.step(
      "at SIGTERM, Watch and /readyz see NOT_SERVING before the listener closes",
      async () => {
        const watching = runPython("health_client.py", [
          "--port",
          port,
          "watch",
          "--seconds",
          "20",
        ]);
        // Give Python time to start and open the stream.
        await new Promise((r) => setTimeout(r, 1000));
        svc.kill("SIGTERM");
        await svc.waitForLog((l) => l.msg === "shutdown: health NOT_SERVING");
        const notReady = await fetch(`http://127.0.0.1:${svc.adminPort}/readyz`);
        assert.equal(notReady.status, 503);
        assert.match(await notReady.text(), /^not ready: shutting down/);
        const lines = await watching;
        assert.deepEqual(lines.map((l) => l.status ?? l.end), [
          "SERVING",
          "NOT_SERVING",
          "UNAVAILABLE",
        ]);
        const closed = await svc.waitForLog((l) => l.msg === "shutdown: stopped accepting calls");
        const notServingAt = (lines[1].t as number) * 1000;
        assert.ok(
          notServingAt < Date.parse(String(closed.time)),
          "NOT_SERVING came before the listener closed",
        );
        assert.equal((await svc.exited).code, 0);
      },
    );
  },
});
