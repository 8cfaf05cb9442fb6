import assert from "node:assert/strict";
import { createLogger } from "./logger.ts";

function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  return { lines, log: createLogger({ ...options, write: (line) => lines.push(line) }) };
}

Deno.test("createLogger() writes one JSON object per line with bound fields", () => {
  const { lines, log } = capture();
  log.child({ method: "/a.B/C" }).info("call", { code: "OK" });
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.level, "info");
  assert.equal(entry.msg, "call");
  assert.equal(entry.method, "/a.B/C");
  assert.equal(entry.code, "OK");
  assert.ok(!Number.isNaN(Date.parse(entry.time)));
});

Deno.test("createLogger() drops lines below the level", () => {
  const { lines, log } = capture({ level: "warn" });
  log.info("hidden");
  log.debug("hidden");
  log.error("shown");
  assert.equal(lines.length, 1);
  assert.equal(log.enabled("info"), false);
  assert.equal(log.enabled("error"), true);
});

Deno.test("createLogger() serialises errors with message, stack and cause", () => {
  const { lines, log } = capture();
  log.error("failed", { error: new Error("boom", { cause: "disk" }) });
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.error.message, "boom");
  assert.equal(entry.error.cause, "disk");
  assert.match(entry.error.stack, /logger_test/);
});

Deno.test("createLogger() pretty format is one readable line per entry", () => {
  const { lines, log } = capture({ format: "pretty" });
  log.warn("slow call", { method: "/a.B/C", ms: 12 });
  assert.match(lines[0], /^\d\d:\d\d:\d\d\.\d{3} WARN {2}slow call method=\/a.B\/C ms=12$/);
});

Deno.test("the default stderr writer keeps order and loses nothing on Deno.exit()", async () => {
  const logger = new URL("./logger.ts", import.meta.url).href;
  const script = `import { createLogger } from ${JSON.stringify(logger)};
const log = createLogger();
log.info("a");
log.info("b");
log.warn("c");
log.info("d");
setTimeout(() => { log.info("e"); log.info("f"); Deno.exit(0); }, 20);`;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0);
  const msgs = new TextDecoder().decode(stderr).trim().split("\n").map((l) => JSON.parse(l).msg);
  assert.deepEqual(msgs, ["a", "b", "c", "d", "e", "f"]);
});

Deno.test("the default stderr writer flushes before an uncaught exception ends the process", async () => {
  const logger = new URL("./logger.ts", import.meta.url).href;
  const script = `import { createLogger } from ${JSON.stringify(logger)};
const log = createLogger();
setTimeout(() => { log.info("before"); throw new Error("boom"); }, 10);`;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.notEqual(code, 0);
  const text = new TextDecoder().decode(stderr);
  assert.match(text, /"msg":"before"/);
  assert.ok(text.indexOf('"before"') < text.indexOf("boom"), text);
});

Deno.test("createLogger() writes what handlers throw without throwing itself", () => {
  for (const format of ["json", "pretty"] as const) {
    const lines: string[] = [];
    const log = createLogger({ format, write: (line) => lines.push(line) });
    const circular: Record<string, unknown> = { name: "loop" };
    circular.self = circular;
    const selfCaused = new Error("caused by itself");
    (selfCaused as { cause?: unknown }).cause = selfCaused;
    const throwingGetter = {
      get message(): string {
        throw new Error("getter throws");
      },
    };
    const proxy = new Proxy({}, {
      ownKeys() {
        throw new Error("no keys");
      },
    });
    log.error("circular", { error: circular });
    log.error("self-caused", { error: selfCaused });
    log.error("getter", { error: throwingGetter });
    log.error("proxy", { error: proxy });
    log.error("proxy fields", proxy as Record<string, unknown>);
    assert.equal(lines.length, 5, format);
    if (format === "json") {
      const [c, s, g, p, f] = lines.map((l) => JSON.parse(l));
      assert.deepEqual(c.error, { name: "loop", self: "[Circular]" });
      assert.equal(s.error.message, "caused by itself");
      assert.equal(s.error.cause, "[Circular]");
      assert.equal(g.error.message, "[unreadable: getter throws]");
      assert.match(p.error, /^\[unreadable: no keys\]$/);
      assert.equal(f.msg, "proxy fields");
    }
  }
});
