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
