/**
 * End-to-end: web request bodies are counted in the process's memory budget
 * (`server.memoryBudgetBytes`) while they are assembled, as HTTP/2 gRPC
 * requests are. Four slow uploads of almost 1 MiB each fill a 4 MiB budget;
 * a fifth request is then RESOURCE_EXHAUSTED (Connect: HTTP 429) instead of
 * growing the process, small calls still pass, and once the uploads end the
 * budget is free again. Raw HTTP/1.1 over node:net, against the fixture
 * service web.Probe.
 * @module
 */
import assert from "node:assert/strict";
import net from "node:net";
import { startSvc } from "./_harness.ts";
import { curl, WEB_ENV } from "./_connect.ts";

const CONFIG = "tests/fixtures/web/svc.yaml";
const MESSAGE_BYTES = 900_000;
const encoder = new TextEncoder();

/** A Connect JSON Echo request body of exactly `size` bytes. */
function echoBody(size: number): Uint8Array {
  const frame = '{"message":""}';
  return encoder.encode(`{"message":"${"x".repeat(size - frame.length)}"}`);
}

/** Opens a connection and sends all of a request but its last byte; bounded. */
function partialUpload(port: number, body: Uint8Array): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const timer = setTimeout(() => reject(new Error("connect timed out")), 5_000);
    socket.on("error", reject);
    socket.on("connect", () => {
      clearTimeout(timer);
      socket.write(
        "POST /web.Probe/Echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
          `content-length: ${body.length}\r\n\r\n`,
      );
      socket.write(body.subarray(0, body.length - 1), () => resolve(socket));
    });
  });
}

Deno.test("web protocols: request bodies count in the memory budget", async (t) => {
  await using svc = await startSvc({
    config: CONFIG,
    env: {
      ...WEB_ENV,
      SVC_SERVER_MAX_RECEIVE_MESSAGE_BYTES: String(1 << 20),
      SVC_SERVER_MEMORY_BUDGET_BYTES: String(4 << 20),
    },
  });
  const url = `http://127.0.0.1:${svc.port}/web.Probe/Echo`;
  const dir = await Deno.makeTempDir({ prefix: "svc-web-memory-" });
  const bodyFile = `${dir}/body.json`;
  await Deno.writeFile(bodyFile, echoBody(MESSAGE_BYTES));
  const full = ["-H", "content-type: application/json", "--data-binary", `@${bodyFile}`];
  const uploads: net.Socket[] = [];
  try {
    await t.step("a whole request of 0.9 MiB is served while the budget is free", async () => {
      const r = await curl(url, full);
      assert.equal(r.status, 200, r.body.slice(0, 200));
    });

    await t.step(
      "with four uploads held, another large request is resource_exhausted",
      async () => {
        for (let i = 0; i < 4; i++) {
          uploads.push(await partialUpload(svc.port, echoBody(MESSAGE_BYTES)));
        }
        // Time for svc to read what was sent.
        await new Promise((r) => setTimeout(r, 500));
        const r = await curl(url, full);
        assert.equal(r.status, 429, r.body.slice(0, 200));
        const error = JSON.parse(r.body);
        assert.equal(error.code, "resource_exhausted");
        assert.match(error.message, /memory budget/);
      },
    );

    await t.step("a small call still passes", async () => {
      const r = await curl(url, ["-H", "content-type: application/json", "-d", '{"message":"hi"}']);
      assert.equal(r.status, 200, r.body);
    });

    await t.step("once the uploads end, the budget is free again", async () => {
      for (const socket of uploads) socket.destroy();
      uploads.length = 0;
      await new Promise((r) => setTimeout(r, 500));
      const r = await curl(url, full);
      assert.equal(r.status, 200, r.body.slice(0, 200));
    });
  } finally {
    for (const socket of uploads) socket.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
