import assert from "node:assert/strict";

/**
 * Runs `body` in a child Deno with `log` (stderr JSON logger) and `accessLog`
 * in scope; returns its stderr lines parsed.
 */
async function _runLogged(body: string): Promise<Record<string, unknown>[]> {
  const logger = new URL("../log/logger.ts", import.meta.url).href;
  const accessLog = new URL("./access_log.ts", import.meta.url).href;
  const script = `import { createLogger } from ${JSON.stringify(logger)};
import { accessLog } from ${JSON.stringify(accessLog)};
const log = createLogger();
const access = accessLog(log);
const call = (method, peer, kind = "unary") =>
  ({ method, peer, kind, messagesReceived: 1, messagesSent: 2 });
${body}`;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 0, text);
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test("accessLog() writes one JSON line per call with every field", async () => {
  const [line] = await _runLogged(`access.finished(call("/a.B/C", "127.0.0.1:5000"), 0, 1.23456);`);
  assert.ok(!Number.isNaN(Date.parse(line.time as string)));
  assert.deepEqual({ ...line, time: undefined }, {
    time: undefined,
    level: "info",
    msg: "call",
    method: "/a.B/C",
    code: "OK",
    durationMs: 1.235,
    peer: "127.0.0.1:5000",
    kind: "unary",
    received: 1,
    sent: 2,
  });
});

Deno.test("accessLog() escapes what JSON needs and keeps non-ASCII text", async () => {
  const tricky = ['/q"uote\\\\d/M', "/ünï/cødé", "/ctl\\u0001/x", "/emoji/😀"];
  const lines = await _runLogged(
    `for (const m of ${JSON.stringify(tricky)}) access.finished(call(m, m), 14, 0);`,
  );
  assert.deepEqual(
    lines.map((l) => [l.method, l.peer, l.code]),
    tricky.map((m) => [m, m, "Unavailable"]),
  );
});

Deno.test("accessLog() lines stay whole and in order across buffer flushes and other lines", async () => {
  // 3,000 lines of ~400 bytes pass the 64 KiB buffer many times; one
  // 200 KB method is longer than the buffer itself.
  const lines = await _runLogged(`
const peer = "p".repeat(300);
for (let i = 0; i < 3000; i++) {
  if (i % 500 === 0) log.info("tick", { i });
  access.finished(call("/svc/M" + i, peer, "bidi_stream"), i % 17, i);
}
access.finished(call("/" + "x".repeat(200000), "big"), 99, 0.5);
log.warn("done");`);
  const calls = lines.filter((l) => l.msg === "call");
  assert.equal(calls.length, 3001);
  calls.slice(0, 3000).forEach((l, i) => {
    assert.equal(l.method, `/svc/M${i}`);
    assert.equal(l.durationMs, i);
    assert.equal(l.kind, "bidi_stream");
  });
  assert.equal((calls[3000].method as string).length, 200001);
  assert.equal(calls[3000].code, undefined, "a code outside 0..16 has no name");
  assert.deepEqual(lines.filter((l) => l.msg === "tick").map((l) => l.i), [
    0,
    500,
    1000,
    1500,
    2000,
    2500,
  ]);
  assert.equal(lines.at(-1)!.msg, "done");
});

Deno.test("accessLog() writes nothing when info is off", async () => {
  const lines = await _runLogged(`
const quiet = createLogger({ level: "warn" });
accessLog(quiet).finished(call("/a.B/C", "x"), 0, 1);
quiet.warn("only");`);
  assert.deepEqual(lines.map((l) => l.msg), ["only"]);
});
